// Every test file gets a database and a session key of its own, so the session store never
// touches the default ~/.alphaswarm and never warns about an ephemeral key.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

process.env.ALPHASWARM_ADMIN_DB_PATH = join(mkdtempSync(join(tmpdir(), 'alphaswarm-web-test-')), 'admin.db');
process.env.ALPHASWARM_CONSOLE_SESSION_KEY = randomBytes(32).toString('base64url').concat('=');
