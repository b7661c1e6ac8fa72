import adapter from '@sveltejs/adapter-node';

/**
 * The baseline of bench/web.ts: the smallest SvelteKit page, built with the console's adapter and
 * served the same way (`node build`), so the bench can print the org page's time to interactive
 * as a ratio to it.
 */
export default { kit: { adapter: adapter({ out: 'build' }) } };
