#!/usr/bin/env bash
# Print the current TOTP code for a base32 secret (sandbox convenience; use an authenticator app for real admins).
set -euo pipefail
cd "$(dirname "$0")/../apps/server"
exec node -e "import('otplib').then(async (m) => console.log(await m.generate({ secret: process.argv[1] })))" "$1"
