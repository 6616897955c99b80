// The API reference: Swagger UI over this origin's /openapi.json. A file of its own, as the
// Content-Security-Policy allows no inline script.
window.SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#reference',
  deepLinking: true,
  tryItOutEnabled: false,
});
