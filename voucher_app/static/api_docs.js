// Starts Swagger UI on the page /api/docs serves; the spec's address comes from the page.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: document.body.dataset.specUrl,
    dom_id: "#swagger-ui",
    validatorUrl: null, // never send the spec to swagger.io
    deepLinking: true,
  });
});
