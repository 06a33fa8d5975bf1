import sys

from orchestration.bench.runner import main

sys.exit(main())
