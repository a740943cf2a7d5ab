.PHONY: run test bench checks load

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh

bench:
	bash scripts/bench.sh

checks:
	bash scripts/checks.sh

load:
	bash scripts/load.sh
