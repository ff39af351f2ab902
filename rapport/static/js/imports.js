/*
 * CSV import pages. The server checks every upload; this only tells a person at once that a file is too large,
 * before the browser spends minutes sending it.
 *
 *   form[data-import-upload] input[data-max-bytes]   refuse files above the limit, with data-max-message
 */
(function () {
  "use strict";

  function showError(input, message) {
    var field = input.closest(".field");
    if (!field) return;
    var error = field.querySelector("[data-client-error]");
    if (!message) {
      if (error) error.remove();
      if (!field.querySelector(".field__error")) field.classList.remove("field--invalid");
      input.removeAttribute("aria-invalid");
      return;
    }
    if (!error) {
      error = document.createElement("div");
      error.className = "field__error";
      error.setAttribute("role", "alert");
      error.setAttribute("data-client-error", "");
      error.id = input.id + "_client_error";
      field.appendChild(error);
    }
    error.textContent = message;
    field.classList.add("field--invalid");
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", error.id);
  }

  function tooLarge(input) {
    var max = parseInt(input.getAttribute("data-max-bytes"), 10);
    var file = input.files && input.files[0];
    return Boolean(max && file && file.size > max);
  }

  document.addEventListener("change", function (e) {
    var input = e.target;
    if (!input.matches || !input.matches("form[data-import-upload] input[data-max-bytes]")) return;
    showError(input, tooLarge(input) ? input.getAttribute("data-max-message") : "");
  });

  // Capture phase, so the refusal happens before rapport.js disables the submit button.
  document.addEventListener(
    "submit",
    function (e) {
      var form = e.target;
      if (!form.matches || !form.matches("form[data-import-upload]")) return;
      var input = form.querySelector("input[data-max-bytes]");
      if (input && tooLarge(input)) {
        e.preventDefault();
        e.stopPropagation();
        showError(input, input.getAttribute("data-max-message"));
        input.focus();
      }
    },
    true
  );
})();
