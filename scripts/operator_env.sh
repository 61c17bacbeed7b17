# Source me at the start of an operator's shell, from the project directory:
#     cd /opt/hedge && . scripts/operator_env.sh
# It activates the virtualenv, exports STATE_DIR as the executor sees it (the environment, else
# .env / ENV_FILE, else data/), and when this checkout runs its own supervisord (scripts/run.sh
# wrote run/supervisord.conf) makes `supervisorctl` talk to that one. Sets nothing else.
_hedge_home=$(pwd)
if [ ! -f "$_hedge_home/execution/settings/env.py" ]; then
  echo "operator_env.sh: run it from the project directory (cd /opt/hedge first)" >&2
  return 2 2>/dev/null || exit 2
fi
if [ -f "$_hedge_home/.venv/bin/activate" ]; then
  . "$_hedge_home/.venv/bin/activate"
fi
STATE_DIR=$(python -c 'from execution.settings import StoreEnv, process_env_over_file, read_env
print(read_env(StoreEnv, process_env_over_file()).state_dir.resolve())') || { unset STATE_DIR; return 2 2>/dev/null || exit 2; }
export STATE_DIR
if [ -f "$_hedge_home/run/supervisord.conf" ]; then
  HEDGE_SUPERVISOR_CONF="$_hedge_home/run/supervisord.conf"
  export HEDGE_SUPERVISOR_CONF
  supervisorctl() { command supervisorctl -c "$HEDGE_SUPERVISOR_CONF" "$@"; }
fi
unset _hedge_home
echo "hedge: STATE_DIR=$STATE_DIR${HEDGE_SUPERVISOR_CONF:+ supervisorctl -> $HEDGE_SUPERVISOR_CONF}" >&2
