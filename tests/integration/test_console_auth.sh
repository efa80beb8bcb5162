#!/usr/bin/env bash
# The console's daemon side as a browser meets it (docs/console.md,
# "Serving and security"; docs/api.md "Console"): static files with their
# security headers and nothing outside the console directory; the API shut
# without the token or a session; login by token (a wrong one changes
# nothing), the session cookie, the CSRF header, one-time tickets and
# `gpuvisor ui`; logout; /v1/history; profile reasons; no secret in the
# daemon's log (at debug level, where every request is logged).
. "$(dirname "$0")/lib.sh"

gv_start_daemon --sim a100-40gb:1,h100-80gb:1,l40s:1 --listen 127.0.0.1:0 --log-level debug
expect_api 200 GET /v1/node
listen=$(jout .listen)
case "$listen" in 127.0.0.1:[1-9]*) ;; *) fail "GET /v1/node listen: '$listen'" ;; esac
base=http://$listen
tok=$(cat "$GV_STATE/token")

# web METHOD PATH [CURL ARGS...]: HTTP on the TCP listener; headers in
# $T/h, body in $T/b, the status printed.
web() {
	local m=$1 p=$2
	shift 2
	curl -s --path-as-is -X "$m" -D "$T/h" -o "$T/b" -w '%{http_code}' "$@" "$base$p" ||
		echo 000
}
hdr() { sed -n "s/^$1: *//Ip" "$T/h" | tr -d '\r' | tail -n 1; }
cookie_of() { hdr Set-Cookie | sed -n 's/^gv_session=\([0-9a-f]*\);.*/\1/p'; }

step "static files, with the security headers, no token needed"
# the build tree's copy of src/console (CMake target console_files)
cdir=$GV_BUILD_DIR/share/gpuvisor/console
expect_eq "$(web GET /ui/)" 200 "GET /ui/"
cmp -s "$T/b" "$cdir/index.html" || fail "/ui/ is not $cdir/index.html"
expect_contains "$(hdr Content-Type)" "text/html" "index type"
expect_eq "$(hdr Content-Security-Policy)" "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'" CSP
expect_eq "$(hdr X-Content-Type-Options)" nosniff nosniff
expect_eq "$(hdr Referrer-Policy)" no-referrer referrer
for f in "$cdir"/*.js "$cdir"/*.css; do
	[ -e "$f" ] || continue
	n=$(basename "$f")
	expect_eq "$(web GET "/ui/$n")" 200 "GET /ui/$n"
	cmp -s "$T/b" "$f" || fail "/ui/$n differs from $f"
	case $n in
	*.js) expect_contains "$(hdr Content-Type)" "text/javascript" "$n type" ;;
	*.css) expect_contains "$(hdr Content-Type)" "text/css" "$n type" ;;
	esac
done
expect_eq "$(web GET /)" 303 "GET /"
expect_eq "$(hdr Location)" /ui/ "GET / Location"
expect_eq "$(web GET /ui)" 303 "GET /ui"
expect_eq "$(hdr Location)" /ui/ "GET /ui Location"
for p in /ui/../token /ui/%2e%2e/token /ui/.. /ui/%2e%2e /ui/..%2ftoken /ui/.hidden.js \
	/ui/nosuch.js /ui/x/y.js; do
	code=$(web GET "$p")
	case $code in 404 | 400) ;; *) fail "GET $p -> $code, expected 404 (or 400)" ;; esac
	expect_not_contains "$(cat "$T/b")" "$tok" "GET $p"
done
expect_eq "$(web GET /ui/%2e%2e/token)" 404 "/ui/%2e%2e/token"
expect_eq "$(web GET /ui/../token)" 404 "/ui/../token"

step "the API without the token or a session: 401, no-store"
expect_eq "$(web GET /v1/gpus)" 401 "GET /v1/gpus bare"
expect_eq "$(hdr Cache-Control)" no-store "API Cache-Control"
expect_eq "$(hdr X-Content-Type-Options)" nosniff "nosniff on the API"
expect_eq "$(web GET /v1/session)" 401 "GET /v1/session bare"
expect_eq "$(web POST /v1/instances -H 'X-Gpuvisor-Console: 1' -H 'Content-Type: application/json' \
	--data-binary '{"profile":"passthrough"}')" 401 "POST /v1/instances bare"
fake=$(printf '%064d' 0)
expect_eq "$(web GET /v1/gpus -H "Cookie: gv_session=$fake")" 401 "a made-up session"

step "login with a wrong token: 401, no cookie, nothing changes"
expect_eq "$(web POST /v1/session --data-binary "{\"token\":\"${tok}x\"}")" 401 "wrong token"
[ -z "$(hdr Set-Cookie)" ] || fail "a wrong token got a cookie: $(hdr Set-Cookie)"
expect_eq "$(web POST /v1/session --data-binary "{\"token\":\"${tok:0:20}\"}")" 401 "token prefix"
[ -z "$(hdr Set-Cookie)" ] || fail "a token prefix got a cookie"
expect_eq "$(web POST /v1/session --data-binary '{"token":1}')" 400 "bad body"
[ -z "$(hdr Set-Cookie)" ] || fail "a bad body got a cookie"
expect_api 200 GET /v1/instances
expect_eq "$(jout '.instances | length')" 0 "instances after refused logins"

step "login with the token: a session cookie that works"
expect_eq "$(web POST /v1/session --data-binary "{\"token\":\"$tok\"}")" 204 "login"
sc=$(hdr Set-Cookie)
expect_contains "$sc" "HttpOnly" "Set-Cookie"
expect_contains "$sc" "SameSite=Strict" "Set-Cookie"
expect_contains "$sc" "Path=/" "Set-Cookie"
sess=$(cookie_of)
expect_eq "${#sess}" 64 "session id length"
C=(-H "Cookie: theme=x; gv_session=$sess")
expect_eq "$(web GET /v1/gpus "${C[@]}")" 200 "GET /v1/gpus with the cookie"
expect_eq "$(jq '.gpus | length' "$T/b")" 3 "GPUs through the cookie"
expect_eq "$(web GET /v1/session "${C[@]}")" 200 "GET /v1/session with the cookie"
expect_eq "$(jq -r .authenticated "$T/b")" true "authenticated"

step "CSRF guard: a cookie's POST needs X-Gpuvisor-Console: 1"
expect_eq "$(web POST /v1/instances "${C[@]}" -H 'Content-Type: application/json' \
	--data-binary '{"profile":"passthrough","gpu":"0"}')" 403 "POST without the header"
expect_contains "$(cat "$T/b")" "X-Gpuvisor-Console" "403 message"
expect_api 200 GET /v1/instances
expect_eq "$(jout '.instances | length')" 0 "instances after the refused POST"
expect_eq "$(web POST /v1/instances "${C[@]}" -H 'X-Gpuvisor-Console: 0' \
	--data-binary '{"profile":"passthrough","gpu":"0"}')" 403 "POST with header 0"
expect_eq "$(web POST /v1/instances "${C[@]}" -H 'X-Gpuvisor-Console: 1' \
	-H 'Content-Type: application/json' --data-binary '{"profile":"passthrough","gpu":"0"}')" \
	201 "POST with the header"
expect_api 200 GET /v1/instances
expect_eq "$(jout '.instances | length')" 1 "instances after the POST"
# the bearer token needs no header
expect_eq "$(web GET /v1/gpus -H "Authorization: Bearer $tok")" 200 "bearer still works"

step "tickets: not by cookie; one use"
expect_eq "$(web POST /v1/session/ticket "${C[@]}" -H 'X-Gpuvisor-Console: 1')" 403 \
	"ticket by cookie"
expect_eq "$(web POST /v1/session/ticket -H "Authorization: Bearer $tok")" 200 "ticket by token"
t1=$(jq -r .ticket "$T/b")
expect_eq "$(jq -r .expires_in "$T/b")" 60 "expires_in"
expect_eq "$(web GET "/ui/login?ticket=$t1")" 303 "login link"
expect_eq "$(hdr Location)" /ui/ "login link Location"
s1=$(cookie_of)
expect_eq "${#s1}" 64 "session from the ticket"
expect_eq "$(web GET /v1/instances -H "Cookie: gv_session=$s1")" 200 "ticket's session"
expect_eq "$(web GET "/ui/login?ticket=$t1")" 303 "login link again"
[ -z "$(hdr Set-Cookie)" ] || fail "a used ticket got a cookie"
expect_eq "$(web GET "/ui/login?ticket=nothex")" 303 "malformed ticket"
[ -z "$(hdr Set-Cookie)" ] || fail "a malformed ticket got a cookie"

step "gpuvisor ui prints a working link"
expect_ok gv ui
url=$GV_OUT
case "$url" in "$base/ui/login?ticket="[0-9a-f]*) ;; *) fail "gpuvisor ui printed '$url'" ;; esac
t2=${url##*ticket=}
code=$(curl -s -D "$T/h" -o /dev/null -w '%{http_code}' "$url")
expect_eq "$code" 303 "the printed link"
s2=$(cookie_of)
expect_eq "$(web GET /v1/gpus -H "Cookie: gv_session=$s2")" 200 "the link's session"
code=$(curl -s -D "$T/h" -o /dev/null -w '%{http_code}' "$url")
[ -z "$(hdr Set-Cookie)" ] || fail "the printed link worked twice"
expect_rc 2 "unexpected argument" gv ui extra

step "logout"
expect_eq "$(web DELETE /v1/session -H "Cookie: gv_session=$s2")" 403 "logout without the header"
expect_eq "$(web DELETE /v1/session -H "Cookie: gv_session=$s2" -H 'X-Gpuvisor-Console: 1')" 204 \
	"logout"
expect_contains "$(hdr Set-Cookie)" "Max-Age=0" "logout clears the cookie"
expect_eq "$(web GET /v1/gpus -H "Cookie: gv_session=$s2")" 401 "the ended session"
expect_eq "$(web GET /v1/gpus "${C[@]}")" 200 "another session lives on"

step "history: samples once a second that grow"
expect_ok gv mode 2 timeslice
gv_create --profile l40s-12c --gpu 2
ts_id=$GV_ID
expect_api 200 GET "/v1/history?seconds=600"
expect_eq "$(jout .interval_ms)" 1000 interval_ms
n1=$(jout '.samples | length')
wait_until 10 bash -c "[ \$(curl -s --unix-socket '$GV_SOCK' 'http://l/v1/history?seconds=600' | jq '.samples|length') -ge $((n1 + 2)) ]" ||
	fail "history did not grow from $n1 samples"
expect_api 200 GET "/v1/history?seconds=2"
expect_eq "$(jout '.samples | length')" 2 "seconds=2"
expect_api 200 GET "/v1/history"
last='.samples[-1]'
expect_eq "$(jout "$last.gpus | length")" 3 "GPUs in a sample"
expect_eq "$(jout "$last.gpus[0].allocated_mib")" 40960 "GPU 0 allocated (the passthrough instance)"
expect_eq "$(jout "$last.instances[0].gpu")" 0 "the instance's GPU"
expect_eq "$(jout "$last.instances[0].share")" null "share of a passthrough instance"
share=$(jout "$last.instances[] | select(.id == \"$ts_id\") | .share")
case "$share" in 0 | 0.* | 1 | 1.0) ;; *) fail "share of a timeslice instance: '$share'" ;; esac
expect_eq "$(jout "$last.instances[] | select(.id == \"$ts_id\") | .gpu")" 2 "the timeslice instance's GPU"
expect_eq "$(jout "$last.gpus[2].allocated_mib")" 12288 "GPU 2 allocated"
t_first=$(jout '.samples[0].t')
t_last=$(jout "$last.t")
[ "$t_last" -gt "$t_first" ] || fail "sample times do not grow: $t_first .. $t_last"
expect_api 400 GET "/v1/history?seconds=0"
expect_api 400 GET "/v1/history?seconds=601"
expect_eq "$(web GET /v1/history "${C[@]}")" 200 "history by cookie"

step "profiles: the reason a profile does not fit, free MIG starts"
expect_ok gv mode 1 mig
expect_api 200 GET "/v1/profiles?gpu=0"
expect_eq "$(jout '[.profiles[] | select(.name == "passthrough")][0].free')" 0 "passthrough free on GPU 0"
r=$(jout '[.profiles[] | select(.name == "passthrough")][0].reason')
[ "$r" != null ] && [ -n "$r" ] || fail "no reason for a full GPU: $GV_OUT"
expect_api 200 GET "/v1/profiles?gpu=1"
expect_eq "$(jout '[.profiles[] | select(.name == "7g.80gb")][0].reason')" null "7g.80gb reason"
expect_eq "$(jout '[.profiles[] | select(.name == "7g.80gb")][0].free_starts | length')" 1 "7g.80gb starts"
expect_ok gv create --profile 4g.40gb --gpu 1
expect_api 200 GET "/v1/profiles?gpu=1"
r=$(jout '[.profiles[] | select(.name == "7g.80gb")][0].reason')
[ "$r" != null ] || fail "7g.80gb has no reason beside a 4g.40gb"
expect_eq "$(jout '[.profiles[] | select(.name == "7g.80gb")][0].free_starts | length')" 0 "7g.80gb starts"
expect_eq "$(jout '[.profiles[] | select(.name == "1g.10gb")][0].free_starts | length')" 3 "1g.10gb starts"
# the reason is what a create would say
expect_fail "$r" gv create --profile 7g.80gb --gpu 1

step "the daemon's log holds no token, ticket or session"
log=$(cat "$T/daemon.log")
expect_contains "$log" "GET /ui/login?(redacted) -> 303" "the access log"
for secret in "$tok" "$t1" "$t2" "$sess" "$s1" "$s2"; do
	expect_not_contains "$log" "$secret" "daemon log"
done

step "sessions are gone at restart; gpuvisor ui without a TCP listener"
gv_restart_daemon
expect_api 200 GET /v1/node
base=http://$(jout .listen)
expect_eq "$(web GET /v1/gpus -H "Authorization: Bearer $tok")" 200 "the token after a restart"
expect_eq "$(web GET /v1/gpus "${C[@]}")" 401 "a session after a restart"
gv_stop_daemon
gv_start_daemon --sim a100-40gb:1,h100-80gb:1,l40s:1
expect_rc 1 "gpuvisord serves no TCP listener: start it with --listen 127.0.0.1:PORT" gv ui
gv_stop_daemon
gv_start_daemon --sim a100-40gb:1,h100-80gb:1,l40s:1 --listen 0.0.0.0:0
expect_api 200 GET /v1/node
port=$(jout .listen)
port=${port##*:}
expect_eq "$(jout .listen)" "0.0.0.0:$port" "listen on the wildcard address"
expect_ok gv ui
case "$GV_OUT" in "http://127.0.0.1:$port/ui/login?ticket="[0-9a-f]*) ;;
*) fail "gpuvisor ui on a wildcard listener printed '$GV_OUT'" ;; esac
code=$(curl -s -D "$T/h" -o /dev/null -w '%{http_code}' "$GV_OUT")
expect_eq "$code" 303 "the link on 127.0.0.1"
[ -n "$(cookie_of)" ] || fail "the link on 127.0.0.1 gave no session"

step "--console-dir: files there only, no symbolic link followed"
gv_stop_daemon
mkdir -p "$T/console"
printf '<!doctype html><title>t</title>\n' >"$T/console/index.html"
ln -s "$GV_STATE/token" "$T/console/leak.json"
ln -s /etc/passwd "$T/console/passwd.css"
gv_start_daemon --sim a100-40gb:1,h100-80gb:1,l40s:1 --listen 127.0.0.1:0 --console-dir "$T/console"
expect_api 200 GET /v1/node
base=http://$(jout .listen)
expect_eq "$(web GET /ui/)" 200 "index from --console-dir"
cmp -s "$T/b" "$T/console/index.html" || fail "/ui/ is not --console-dir's index.html"
expect_eq "$(web GET /ui/leak.json)" 404 "a symbolic link to the token"
expect_not_contains "$(cat "$T/b")" "$tok" "leak.json"
expect_eq "$(web GET /ui/passwd.css)" 404 "a symbolic link out"
gv_stop_daemon
"$GV_BIN_DIR/gpuvisord" --socket "$T/x.sock" --state-dir "$T/x" --sim h100-80gb:1 \
	--console-dir "$T/nosuch" >"$T/x.log" 2>&1 && fail "a missing --console-dir was taken"
expect_contains "$(cat "$T/x.log")" "--console-dir $T/nosuch" "missing --console-dir"
gv_done
