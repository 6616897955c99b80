// The API reference: Swagger UI over this origin's /openapi.json. A file of its own, as the
// Content-Security-Policy allows no inline script.
window.SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#reference',
  deepLinking: true,
  tryItOutEnabled: false,
  onComplete: () => {
    // Swagger UI leaves its server picker without a name.
    const servers = document.getElementById('servers');
    if (servers && !servers.hasAttribute('aria-label')) servers.setAttribute('aria-label', 'Server');
  },
});
