#!/usr/bin/env bash
# Installs the Debian packages the tests use (headless Chromium, PostgreSQL, Tesseract OCR, nginx for
# the deployment guide's TLS proxy) when they are missing.
# Without root or apt, it says what is missing and the tests that need them skip with that reason.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium chromium-driver)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
fc-list 2>/dev/null | grep -qi dejavu || need+=(fonts-dejavu-core)
command -v tesseract >/dev/null 2>&1 || need+=(tesseract-ocr tesseract-ocr-eng)
command -v nginx >/dev/null 2>&1 || need+=(nginx-light)  # docs/deploy.md's TLS proxy, tested
command -v curl >/dev/null 2>&1 || need+=(curl)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "system-deps: missing ${need[*]}; not root or no apt-get, so tests needing them will skip." >&2
    exit 0
fi
echo "system-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
