#!/bin/sh
# Starts every Switchyard function over CGI in one container: fcgiwrap and nginx, as the pod's user,
# from deploy/cgi/nginx.conf. Only the secrets that are mounted are passed to the functions, so a
# deployment that uses GitHub alone needs only its two; a mounted secret that the pod's user cannot
# read stops the container at start with what to fix, instead of failing every request.
#
# Settings (environment): PORT (8080), FCGI_WORKERS (4), SWITCHYARD_HOME (an emptyDir: pid, temp
# files, the token cache), SWITCHYARD_SECRETS_DIR (/etc/switchyard/secrets), SWITCHYARD_CONFIG
# (/etc/switchyard/config/switchyard.yaml), SWITCHYARD_OPT (/opt/switchyard), and passed on to the
# functions when set: GITHUB_API_URL, GITHUB_APP_ID, GITHUB_APP_INSTALLATION_ID, MATTERMOST_URL,
# PROVISIONER_URL, GITLAB_URL, SWITCHYARD_BOT_LOGIN, SWITCHYARD_LOG_LEVEL, SWITCHYARD_DEADLINE_MS.
set -eu
opt=${SWITCHYARD_OPT:-/opt/switchyard}
home=${SWITCHYARD_HOME:-/var/lib/switchyard}
secrets=${SWITCHYARD_SECRETS_DIR:-/etc/switchyard/secrets}
config=${SWITCHYARD_CONFIG:-/etc/switchyard/config/switchyard.yaml}
port=${PORT:-8080}
workers=${FCGI_WORKERS:-4}

fail() { echo "switchyard: $*" >&2; exit 1; }

mkdir -p "$home/cache" "$home/run"
chmod 0700 "$home/cache"
[ -r "$config" ] || fail "the policy $config cannot be read (mount the ConfigMap there, or set SWITCHYARD_CONFIG)"

params=""
add() {  # add NAME VALUE: one fastcgi_param, quoted; values that would break the quoting are refused
  case $2 in *'"'*|*'\'*|*"
"*) fail "$1 holds a quote, a backslash or a newline" ;; esac
  params="$params
            fastcgi_param $1 \"$2\";"
}
found=0
for pair in github-webhook-secret:GITHUB_WEBHOOK_SECRET github-token:GITHUB_TOKEN \
            github-app-private-key:GITHUB_APP_PRIVATE_KEY mattermost-token:MATTERMOST_TOKEN \
            slack-signing-secret:SLACK_SIGNING_SECRET gitlab-webhook-token:GITLAB_WEBHOOK_TOKEN \
            gitlab-token:GITLAB_TOKEN provisioner-api-key:PROVISIONER_API_KEY \
            provisioner-webhook-token:PROVISIONER_WEBHOOK_TOKEN deploy-notify-webhook-url:DEPLOY_NOTIFY_WEBHOOK_URL \
            deploy-credentials-webhook-url:DEPLOY_CREDENTIALS_WEBHOOK_URL deploy-ops-webhook-url:DEPLOY_OPS_WEBHOOK_URL \
            deploy-license:DEPLOY_LICENSE deploy-licenses:DEPLOY_LICENSES mattermost-bot-token:MATTERMOST_BOT_TOKEN slack-bot-token:SLACK_BOT_TOKEN e2e-notify-webhook-url:E2E_NOTIFY_WEBHOOK_URL; do
  file=$secrets/${pair%%:*}
  [ -e "$file" ] || continue
  [ -r "$file" ] || fail "$file is mounted but user $(id -u) cannot read it: give the pod securityContext.fsGroup $(id -g) and the Secret volume defaultMode 0440"
  add "${pair##*:}_FILE" "$file"
  found=$((found + 1))
done
[ -e "$secrets/github-webhook-secret" ] || fail "no github-webhook-secret in $secrets: every webhook would be refused"
for var in GITHUB_API_URL GITHUB_APP_ID GITHUB_APP_INSTALLATION_ID MATTERMOST_URL PROVISIONER_URL GITLAB_URL \
           SWITCHYARD_BOT_LOGIN SWITCHYARD_LOG_LEVEL SWITCHYARD_DEADLINE_MS; do
  eval "value=\${$var:-}"
  if [ -n "$value" ]; then add "$var" "$value"; fi
done
if [ -n "${GITHUB_APP_ID:-}" ] && [ ! -e "$secrets/github-app-private-key" ]; then
  fail "GITHUB_APP_ID is set but the Secret has no github-app-private-key"
fi

# deploy/cgi/nginx.conf, filled for a container: the pod's user (no `user`), every interface, logs to
# the container's output, the secret files found above instead of the fixed list.
extra=$(printf '%s' "$params" | sed 's/[&|]/\\&/g' | awk 'BEGIN { ORS = "\\n" } { print }')
sed -e '/^user /d' -e '/fastcgi_param [A-Z_]*_FILE @SECRETS_DIR@/d' \
    -e "s|listen 127.0.0.1:@PORT@;|listen $port;|" \
    -e "s|@LOG_DIR@/error.log|/dev/stderr|; s|@LOG_DIR@/access.log|off|" \
    -e "s|@PREFIX@|$home/run|g; s|@BIN_DIR@|$opt/bin|; s|@FUNCTIONS_DIR@|$opt/functions|" \
    -e "s|@SOCKET@|$home/run/fcgiwrap.socket|; s|@MAX_BODY@|25m|; s|@FUNCTION_MAX_BODY@|26214400|" \
    -e "s|@CONFIG@|$config|; s|@CACHE_DIR@|$home/cache|; s|@SECRETS_DIR@|$secrets|g" \
    -e "s|fastcgi_param GITHUB_API_URL @GITHUB_API_URL@;||" \
    -e "s|# @EXTRA_NGINX@|$extra|" \
    "$opt/nginx.conf.in" > "$home/run/nginx.conf"

echo "switchyard: $found secret(s) from $secrets, policy $config, listening on $port" >&2
rm -f "$home/run/fcgiwrap.socket"
# The functions' log lines (stderr) go straight to the container's output.
fcgiwrap -c "$workers" -s "unix:$home/run/fcgiwrap.socket" &
i=0
while [ ! -S "$home/run/fcgiwrap.socket" ]; do
  i=$((i + 1)); [ $i -lt 100 ] || fail "fcgiwrap did not start"
  sleep 0.05
done
exec nginx -p "$home/run" -c "$home/run/nginx.conf" -g 'daemon off;'
