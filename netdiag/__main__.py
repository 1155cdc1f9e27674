"""`python -m netdiag`."""

from netdiag.cli import main

raise SystemExit(main())
