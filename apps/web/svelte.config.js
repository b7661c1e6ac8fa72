import adapter from '@sveltejs/adapter-node';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
export default {
  preprocess: vitePreprocess(),
  kit: {
    adapter: adapter({ out: 'build' }),
    // The origin check stays on. Only "null" is let through it: under `Referrer-Policy: no-referrer`
    // browsers send `Origin: null` on plain (no-JS) form posts, even same-origin ones. hooks.server.ts
    // then admits such a post only with `Sec-Fetch-Site: same-origin`.
    csrf: { trustedOrigins: ['null'] },
    csp: {
      mode: 'hash',
      directives: {
        'default-src': ['self'],
        'script-src': ['self'],
        // No inline styles, except the one style attribute of SvelteKit's route announcer (visually
        // hidden live region): allowed by its hash alone. The e2e suite fails on any CSP violation,
        // so a SvelteKit release that changes it is caught there.
        'style-src': ['self', 'unsafe-hashes', 'sha256-S8qMpvofolR8Mpjy4kQvEm7m1q8clzU4dfDH0AmvZjo='],
        'img-src': ['self', 'data:'],
        'connect-src': ['self'],
        'form-action': ['self'],
        'frame-ancestors': ['none'],
        'base-uri': ['none'],
        'object-src': ['none'],
      },
    },
  },
};
