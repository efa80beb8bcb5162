#!/usr/bin/env bash
# console.static: what the browser tests cannot prove for every path, read
# from the console's sources (src/console): no HTML parsing of data
# (innerHTML, outerHTML, insertAdjacentHTML, document.write), no eval or
# code from strings, no inline script, handler or style attribute in the
# page (the daemon's CSP forbids them), no address of another site.
set -u
dir=${GV_SOURCE_DIR:?}/src/console
rc=0
bad() {
	printf 'FAIL: %s\n' "$1" >&2
	rc=1
}
[ -f "$dir/index.html" ] || { echo "FAIL: $dir/index.html missing" >&2; exit 1; }
if grep -nE 'innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function\(|setTimeout\(['\''"`]|setInterval\(['\''"`]' "$dir"/*.js; then
	bad "HTML or code built from strings (above)"
fi
# every <script> has a src and no body; no on*= handlers, no style= attributes
if grep -nE '<script(>|[^>]*>[^<])' "$dir"/*.html | grep -v 'src=' ; then bad "an inline script (above)"; fi
if grep -niE '<script[^>]*>[^<]+</script>' "$dir"/*.html; then bad "a script with a body (above)"; fi
if grep -niE '\son[a-z]+=' "$dir"/*.html; then bad "an inline event handler (above)"; fi
if grep -niE '\sstyle=|<style' "$dir"/*.html; then bad "an inline style (above)"; fi
if grep -nE "setAttribute\\(['\"](style|on[a-z]+)['\"]" "$dir"/*.js; then bad "a style or handler attribute set from script (above)"; fi
# no other origin: no absolute URL, no protocol-relative one, in any file
# (the SVG namespace is a name, not a request)
if grep -nE '(https?:)?//[A-Za-z0-9.-]+\.[a-z]{2,}' "$dir"/* | grep -v 'http://www.w3.org/2000/svg'; then
	bad "an address of another site (above)"
fi
[ $rc = 0 ] && echo "PASS: console sources clean ($(ls "$dir" | wc -l) files)"
exit $rc
