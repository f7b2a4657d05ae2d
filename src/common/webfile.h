/* SPDX-License-Identifier: MIT */
/*
 * The web console's files as both of its servers hand them out (virtkitd
 * over TLS, `virtkit ui` on 127.0.0.1): which URL paths name a file of the
 * web folder, their content types, and the page's Content-Security-Policy.
 */
#ifndef VK_WEBFILE_H
#define VK_WEBFILE_H

#include <stddef.h>

/*
 * Scripts, styles, images and connections from the page's own origin only;
 * no frames, plugins or forms elsewhere. Inline styles are allowed because
 * xterm.js sizes its cells with a <style> element it makes; inline scripts
 * are not.
 */
#define VK_WEB_CSP                                                                                 \
	"default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' " \
	"data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; "        \
	"frame-ancestors 'none'"

/*
 * The file of root that url names ("/" is index.html) in path, and its
 * Content-Type; NULL when url names none of ours: only letters, digits, '-',
 * '_', '.' and '/', no "..", no hidden names, a known type.
 */
const char *vk_web_file(const char *root, const char *url, char *path, size_t len);

#endif
