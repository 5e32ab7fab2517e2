"""`python -m dashboard ...`: the same command line as `trial-dashboard`."""

from .cli import main

raise SystemExit(main())
