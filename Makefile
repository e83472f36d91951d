# The README's two commands: `make run` and `make test`. Both install what they need first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test install bench clean fonts assets

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP) fonts assets

run: $(STAMP) fonts assets
	$(VENV)/bin/xinfeng run

# Two workers: the suite waits on databases and sockets as much as it computes (PYTEST_ARGS= for one);
# loadgroup keeps the cluster fault scenarios (four bot processes each) on one worker, one at a time.
PYTEST_ARGS ?= -n 2 --dist loadgroup

test: $(STAMP) fonts assets
	$(PY) -m pytest $(PYTEST_ARGS)

# The charts' Chinese labels need a CJK font: Debian's WenQuanYi Micro Hei, installed (as root) when missing.
fonts:
	@if [ ! -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends fonts-wqy-microhei; \
	  else echo "统计图表需要中文字体：sudo apt-get install fonts-wqy-microhei" >&2; fi; \
	fi

# The dashboard's ECharts and the data map's boundaries: npm packages pinned in package-lock.json, installed
# (never committed) when npm exists; without them the page and 统计 still work, without the map, and say so.
NODE_STAMP := node_modules/.installed

assets: $(NODE_STAMP)

$(NODE_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --no-audit --no-fund --ignore-scripts --loglevel=error && touch $(NODE_STAMP); \
	else echo "数据地图的地图需要 Node.js 的 npm（apt-get install npm），然后再运行 make" >&2; fi

clean:
	rm -rf $(VENV) *.egg-info xinfeng.db xinfeng.db-wal xinfeng.db-shm
