from ikeview.cli import main

raise SystemExit(main())
