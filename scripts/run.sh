#!/usr/bin/env bash
# Set up a fresh machine and run the main job: the executor (paper profile, generated market,
# local state in ./data) and the dashboard, under a real supervisord. Prints where to look.
# Prometheus (127.0.0.1:9090, scraping the executor's /metrics on 127.0.0.1:METRICS_PORT) and
# Alertmanager (127.0.0.1:9093) run beside them, configured by scripts/render_monitoring.py into
# ./run/monitoring/ (about 0.7 s more: both are installed by scripts/bootstrap.sh anyway).
# MONITORING=0 leaves them out.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
HOME_DIR=$PWD
RUN_DIR=${RUN_DIR:-$HOME_DIR/run}
PROGRAMS=${PROGRAMS:-hedge-executor,hedge-dashboard}
# .env holds the keys: created readable by this user only (the executor warns at start otherwise)
[ -f .env ] || (umask 077 && cp .env.example .env)
if [ "${MONITORING:-1}" = "1" ]; then
  .venv/bin/python scripts/render_monitoring.py --out "$HOME_DIR/run/monitoring" >/dev/null
  PROGRAMS="$PROGRAMS,hedge-prometheus,hedge-alertmanager"
fi
conf=$(.venv/bin/python scripts/render_supervisor.py --home "$HOME_DIR" --python "$HOME_DIR/.venv/bin/python" \
       --log-dir "$RUN_DIR/log" --run-dir "$RUN_DIR" --programs "$PROGRAMS")
ctl=(supervisorctl -c "$conf")
if "${ctl[@]}" status >/dev/null 2>&1 || [ "$?" = "3" ]; then
  "${ctl[@]}" reread >/dev/null && "${ctl[@]}" update >/dev/null
else
  supervisord -c "$conf"
fi
sleep 6
"${ctl[@]}" status || true
cat <<MSG

Running under supervisord ($conf).
  executor log : $RUN_DIR/log/hedge-executor.out.log   (grep '\[screener\]', '\[executor\]', '\[risk\]')
  state        : $HOME_DIR/data/state/nav.json, positions.json, ...  (history/nav/, trade_log.jsonl)
  dashboard    : http://127.0.0.1:8501  (put nginx in front for investors: deploy/nginx/)
  status       : supervisorctl -c $conf status
  stop         : supervisorctl -c $conf shutdown
MSG
if [ "${MONITORING:-1}" = "1" ]; then
  metrics_port=$(sed -n 's/^METRICS_PORT=\([0-9]*\).*/\1/p' .env | tail -1)
  cat <<MSG
  metrics      : http://127.0.0.1:${metrics_port:-0}/metrics  (the executor's; METRICS_PORT in .env, 0 = off)
  prometheus   : http://127.0.0.1:9090  (rules: deploy/prometheus/rules/; config: run/monitoring/)
  alertmanager : http://127.0.0.1:9093  (Telegram: ALERTMANAGER_TELEGRAM_TOKEN_FILE, TELEGRAM_CHAT_ID)
MSG
fi
