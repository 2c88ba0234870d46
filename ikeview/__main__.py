from ikeview.entry import run

raise SystemExit(run())
