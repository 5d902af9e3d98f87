from pathlib import Path

from setuptools import find_packages, setup

PACKAGES = ("lotse", "routing", "pbx", "stores", "render", "outcomes", "ivr", "agi_scripts", "metrics", "promises", "runtime", "web")
# The example center ships inside the wheel as lotse/example, read straight from the top-level config/ folder (no copy in
# git); lotse init writes it out. A source checkout (pip install -e) has no lotse/example: lotse reads config/ there.
EXAMPLE = {"lotse.example": "config"}

setup(
    name="lotse",
    version="0.1.0",
    description="Call routing and IVR for public-administration service centers, on Asterisk",
    long_description=Path("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="AGPL-3.0-or-later",
    python_requires=">=3.11",
    packages=[*find_packages(include=[f"{name}{sub}" for name in PACKAGES for sub in ("", ".*")]), *EXAMPLE],
    package_dir=EXAMPLE,
    package_data={
        "stores": ["migrations/script.py.mako"],
        "web": ["templates/*.html", "static/*"],
        "metrics": ["grafana/*.json", "prometheus/*.yml"],  # the dashboard and alert rules, for the monitoring of a center
        "lotse.example": ["*.yaml", "*.json", "tenants/*.yaml"],
        "runtime": ["lotse.example.yaml"],  # the settings file lotse init writes
    },
    install_requires=[
        "PyYAML>=6.0",
        "pydantic>=2.6,<3",  # the YAML's shape, error locations and JSON Schema from one definition
        "holidays>=0.50",  # German public holidays per state; no hand-written holiday rules
        "panoramisk>=1.4",  # FastAGI server and AMI client
        "pyst2>=0.5",  # classic per-process AGI scripts
        "SQLAlchemy>=2.0",  # call records: SQLite by default, PostgreSQL by URL
        "alembic>=1.13",  # schema migrations of the call records
        "psycopg[binary]>=3.1",  # PostgreSQL driver
        "prometheus-client>=0.20",  # the /metrics endpoint of lotse metrics
        "redis>=5",  # live state shared by lotse processes: agents, waiting callers, emergency switch
        "uvloop>=0.19",  # a faster event loop for lotse serve and lotse metrics (BENCHMARKS.md: CPU per call)
        "starlette>=0.37",  # the tickets' HTTP API (routing, requests, JSON) instead of a hand-written HTTP parser
        "uvicorn>=0.29",  # serves it inside lotse promises' event loop
        "jinja2>=3.1",  # lotse web's pages: templates with autoescaping instead of HTML built from strings
        "itsdangerous>=2.1",  # signed session cookies (Starlette's SessionMiddleware)
        "python-multipart>=0.0.9",  # form posts (Starlette's request.form())
    ],
    extras_require={
        # aiosmtpd: a real SMTP server for the tests of lotse promises' mail; httpx: Starlette's test client;
        # selenium: drives Debian's chromium in the browser tests (scripts/browser)
        "dev": [
            *("pytest>=8", "hypothesis>=6.100", "mypy>=1.10", "ruff>=0.5", "types-PyYAML"),
            *("aiosmtpd>=1.4", "httpx>=0.27", "selenium>=4.20"),
            "import-linter>=2.1",  # checks the direction of imports between the packages (pyproject: tool.importlinter)
        ],
    },
    entry_points={"console_scripts": ["lotse = lotse.cli:main", "lotse-agi = agi_scripts.lotse_agi:main"]},
)
