from kfws.cli import main

raise SystemExit(main())
