#!/usr/bin/env bash
# Puts jetfaas's upstream and routes into APISIX through its Admin API. Every
# object has a fixed id, so a second run rewrites the same objects.
#
# APISIX_ADMIN_KEY      required; read from .env beside this script when unset
# APISIX_ADMIN_URL      default http://localhost:9180
# APISIX_UPSTREAM_NODE  the gateway, default api-server:3000
# APISIX_WAIT_TRIES, APISIX_WAIT_INTERVAL_S  how long to wait for the Admin API
# APISIX_MAX_BODY_BYTES, APISIX_EXECUTE_TIMEOUT_S, APISIX_AUTH_LIMIT  see below
set -euo pipefail

ADMIN_URL="${APISIX_ADMIN_URL:-http://localhost:9180}"
UPSTREAM_NODE="${APISIX_UPSTREAM_NODE:-api-server:3000}"
ENV_FILE="${APISIX_ENV_FILE:-$(dirname "$0")/.env}"
WAIT_TRIES="${APISIX_WAIT_TRIES:-60}"
WAIT_INTERVAL_S="${APISIX_WAIT_INTERVAL_S:-2}"
# Bodies up to the gateway's FAAS_MAX_BODY_BYTES (1 MiB) reach it and get its
# JSON 413; APISIX stops only what is well past that.
MAX_BODY_BYTES="${APISIX_MAX_BODY_BYTES:-1114112}"
# A call may wait FAAS_DISPATCH_WAIT_MS (10 s) in the queue, then run for up
# to FAAS_MAX_TIMEOUT_MS (60 s): the proxy must wait longer than both.
EXECUTE_TIMEOUT_S="${APISIX_EXECUTE_TIMEOUT_S:-80}"
# Attempts at /auth/* per client address and minute, against password guessing.
AUTH_LIMIT="${APISIX_AUTH_LIMIT:-20}"

fail() {
  echo "init_routes.sh: $*" >&2
  exit 1
}

read_admin_key() {
  local line
  if [[ -n "${APISIX_ADMIN_KEY:-}" ]]; then
    ADMIN_KEY="$APISIX_ADMIN_KEY"
    return
  fi
  # .env is read, never sourced: it is data, not a script.
  if [[ -r "$ENV_FILE" ]]; then
    while IFS= read -r line || [[ -n "$line" ]]; do
      if [[ "$line" =~ ^APISIX_ADMIN_KEY=(.*)$ ]]; then
        ADMIN_KEY="${BASH_REMATCH[1]}"
      fi
    done <"$ENV_FILE"
    # Quotes around the value are compose's syntax, not part of the key.
    if [[ "${ADMIN_KEY:-}" =~ ^\"(.*)\"$ || "${ADMIN_KEY:-}" =~ ^\'(.*)\'$ ]]; then
      ADMIN_KEY="${BASH_REMATCH[1]}"
    fi
  fi
  if [[ -z "${ADMIN_KEY:-}" ]]; then
    fail "APISIX_ADMIN_KEY is not set (export it, or set it in $ENV_FILE;" \
      "see .env.example)"
  fi
}

# The key goes to curl through a file descriptor, never on its command line.
admin_curl() {
  curl -sS --max-time 10 -H @<(printf 'X-API-KEY: %s\n' "$ADMIN_KEY") "$@"
}

wait_for_admin() {
  local try status
  for ((try = 1; try <= WAIT_TRIES; try++)); do
    status=$(admin_curl -o /dev/null -w '%{http_code}' \
      "$ADMIN_URL/apisix/admin/routes" 2>/dev/null || true)
    if [[ "$status" =~ ^[1-5][0-9][0-9]$ ]]; then
      return
    fi
    sleep "$WAIT_INTERVAL_S"
  done
  fail "the Admin API at $ADMIN_URL did not answer after $WAIT_TRIES tries" \
    "${WAIT_INTERVAL_S} s apart"
}

put() {
  local path="$1" body="$2" answer status
  answer=$(admin_curl -X PUT -H 'Content-Type: application/json' \
    --data-binary "$body" -w $'\n%{http_code}' "$ADMIN_URL/apisix/admin/$path") ||
    fail "PUT $path: no answer from $ADMIN_URL"
  status="${answer##*$'\n'}"
  if [[ ! "$status" =~ ^2[0-9][0-9]$ ]]; then
    fail "PUT $path answered $status: ${answer%$'\n'*}"
  fi
  echo "PUT $path: $status"
}

require_number() {
  if [[ ! "$2" =~ ^[0-9]+$ ]]; then
    fail "$1 must be a whole number, not '$2'"
  fi
}

check_settings() {
  require_number APISIX_WAIT_TRIES "$WAIT_TRIES"
  require_number APISIX_MAX_BODY_BYTES "$MAX_BODY_BYTES"
  require_number APISIX_EXECUTE_TIMEOUT_S "$EXECUTE_TIMEOUT_S"
  require_number APISIX_AUTH_LIMIT "$AUTH_LIMIT"
  if [[ ! "$UPSTREAM_NODE" =~ ^[A-Za-z0-9._-]+:[0-9]+$ ]]; then
    fail "APISIX_UPSTREAM_NODE must be host:port, not '$UPSTREAM_NODE'"
  fi
}

# route ID URI METHODS [FIELDS] [PLUGINS]: FIELDS and PLUGINS are JSON members,
# each starting with a comma. Every route carries the request id the gateway
# logs, the body limit and APISIX's own metrics.
route() {
  local id="$1" uri="$2" methods="$3" fields="${4:-}" plugins="${5:-}"
  local common
  common='"request-id":{"header_name":"X-Request-Id","include_in_response":true},'
  common+='"client-control":{"max_body_size":'"$MAX_BODY_BYTES"'},'
  common+='"prometheus":{}'
  put "routes/$id" '{"name":"'"$id"'","uri":"'"$uri"'","methods":'"$methods"',
    "upstream_id":"jetfaas-api"'"$fields"',"plugins":{'"$common$plugins"'}}'
}

main() {
  local upstream limit execute
  check_settings
  read_admin_key
  wait_for_admin

  upstream='{"name":"jetfaas-api","type":"roundrobin","scheme":"http",'
  upstream+='"pass_host":"pass","retries":0,'
  upstream+='"nodes":{"'"$UPSTREAM_NODE"'":1},'
  upstream+='"timeout":{"connect":5,"send":30,"read":30}}'
  put upstreams/jetfaas-api "$upstream"

  limit=',"limit-count":{"count":'"$AUTH_LIMIT"',"time_window":60,'
  limit+='"key_type":"var","key":"remote_addr","rejected_code":429,'
  limit+='"policy":"local"}'
  route jetfaas-auth '/auth/*' '["POST"]' '' "$limit"

  route jetfaas-functions /functions '["GET","POST"]'
  route jetfaas-function '/functions/*' '["GET","PUT","DELETE"]'

  # The same prefix as above, told apart by method; only execution may take
  # as long as a function's timeout plus its wait in the queue.
  execute=',"vars":[["uri","~~","^/functions/[^/]+/execute$"]],'
  execute+='"timeout":{"connect":5,"send":'"$EXECUTE_TIMEOUT_S"
  execute+=',"read":'"$EXECUTE_TIMEOUT_S"'}'
  route jetfaas-execute '/functions/*' '["POST"]' "$execute"

  route jetfaas-invocations '/invocations/*' '["GET"]'
}

main "$@"
