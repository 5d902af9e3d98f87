"""What lotse says to and hears from Asterisk: the dialplan contract, the AMI link and its actions, the spool, the journal."""
