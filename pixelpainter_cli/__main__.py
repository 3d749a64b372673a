import sys

from pixelpainter_cli import main

sys.exit(main())
