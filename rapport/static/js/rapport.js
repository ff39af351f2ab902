/*
 * Rapport workspace behaviour. Loaded on every page by base.html (CSP: no inline scripts, so everything is
 * wired through data- attributes and event delegation, which also survives HTMX swaps).
 *
 *   data-confirm="Text"        on a form, button, link or hx-* element: ask first (data-confirm-title,
 *                              data-confirm-action for the button label, data-confirm-safe for a non-red button)
 *   data-dialog-open="#id"     opens a <dialog>; data-dialog-close closes the enclosing one
 *   data-bulk                  container of a selectable list: [data-bulk-all], [data-bulk-item] checkboxes
 *                              (value = id), [data-bulk-bar] (shown when something is selected), [data-bulk-count];
 *                              forms inside with data-bulk-form get one hidden "ids" input per selected row
 *   data-list / data-row       keyboard list: j/k move, x selects, Enter opens [data-row-link] of the row
 *   data-shortcut="edit"       the link "e" follows; data-shortcut="note" the field "n" focuses
 *   data-search-primary        the search field "/" focuses (falls back to the global search)
 *   data-tab-group / data-tab  simple tabs: clicking [data-tab=value] sets [data-tab-input] in the group
 *   data-download              submit that downloads a file: buttons are re-enabled shortly after
 *   data-filter-form           the list's filter form; [data-clear-field="name …"|"*"] links clear those fields
 *                              and resubmit it over HTMX (their href is the no-JS fallback)
 *   data-repeat                repeatable inputs: [data-repeat-add] adds a row, [data-repeat-remove] drops one
 *   data-validate-url          on a form: each field is checked on the server when the user leaves it
 *   data-activate-tab="v"      clicks the tab [data-tab=v] and focuses its group's textarea (quick actions)
 *   data-open-details="#id"    opens that <details> panel and focuses its first field (the profile's Email)
 *   data-lazy="url"            a part fetched (HTMX, outerHTML) when its <details> first opens or its <dialog> is
 *                              opened; with data-lazy-refresh it stays and is fetched again (innerHTML) each time
 *   data-submit-shortcut       on a form: Ctrl+Enter or Cmd+Enter in its textarea submits it (the inline reply)
 *   data-scroll-end            a scrolling list shown scrolled to its end when it appears (the conversation)
 *   Rapport.toast(msg, level)  shows a toast; the server can also send HX-Trigger: {"rapport:toast": {...}}
 */
(function () {
  "use strict";

  var Rapport = (window.Rapport = window.Rapport || {});

  function $(sel, root) {
    return (root || document).querySelector(sel);
  }
  function $all(sel, root) {
    return Array.prototype.slice.call((root || document).querySelectorAll(sel));
  }

  /* ---------- CSRF for HTMX and fetch ---------- */
  function csrfToken() {
    var meta = $('meta[name="csrf-token"]');
    if (meta && meta.content && meta.content !== "NOTPROVIDED") return meta.content;
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  Rapport.csrfToken = csrfToken;
  document.addEventListener("htmx:configRequest", function (e) {
    var verb = (e.detail.verb || "get").toLowerCase();
    if (verb !== "get") e.detail.headers["X-CSRFToken"] = csrfToken();
  });

  /* ---------- Toasts ---------- */
  var TOAST_MS = 4500;
  function dismissToast(el) {
    if (!el || el.classList.contains("is-leaving")) return;
    el.classList.add("is-leaving");
    setTimeout(function () {
      el.remove();
    }, 220);
  }
  function armToast(el) {
    if (el.dataset.armed) return;
    el.dataset.armed = "1";
    if (!el.classList.contains("toast--error")) {
      setTimeout(function () {
        dismissToast(el);
      }, TOAST_MS);
    }
  }
  function toast(message, level) {
    var box = $("#toasts");
    if (!box) {
      box = document.createElement("div");
      box.id = "toasts";
      box.className = "toasts";
      box.setAttribute("role", "status");
      box.setAttribute("aria-live", "polite");
      document.body.appendChild(box);
    }
    var el = document.createElement("div");
    el.className = "toast toast--" + (level || "success");
    el.setAttribute("data-toast", "");
    var text = document.createElement("span");
    text.className = "toast__text";
    text.textContent = message;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "toast__close";
    close.setAttribute("data-toast-close", "");
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    el.appendChild(text);
    el.appendChild(close);
    box.appendChild(el);
    armToast(el);
    return el;
  }
  Rapport.toast = toast;
  function armAllToasts() {
    $all("[data-toast]").forEach(armToast);
  }
  document.addEventListener("rapport:toast", function (e) {
    var d = e.detail || {};
    if (d.message) toast(d.message, d.level || "success");
  });
  document.addEventListener("htmx:responseError", function (e) {
    var status = e.detail.xhr ? e.detail.xhr.status : 0;
    var msg =
      status === 404
        ? "That record no longer exists or is not visible to you."
        : status === 403
          ? "You do not have permission to do that."
          : status === 429
            ? "Too many attempts. Please wait a moment and try again."
            : "Something went wrong (" + status + "). Please try again.";
    toast(msg, "error");
  });
  document.addEventListener("htmx:sendError", function () {
    toast("Cannot reach Rapport. Check your connection and try again.", "error");
  });

  /* ---------- Confirmation dialog ---------- */
  function askConfirm(el) {
    var dialog = $("#confirm-dialog");
    var text = el.getAttribute("data-confirm");
    if (!dialog || typeof dialog.showModal !== "function") return Promise.resolve(window.confirm(text));
    $("#confirm-dialog-title").textContent = el.getAttribute("data-confirm-title") || "Are you sure?";
    $("#confirm-dialog-body").textContent = text;
    var ok = $("[data-confirm-ok]", dialog);
    ok.textContent = el.getAttribute("data-confirm-action") || "Confirm";
    ok.className = el.hasAttribute("data-confirm-safe") ? "btn btn--primary" : "btn btn--danger";
    dialog.returnValue = "";
    dialog.showModal();
    $("[data-confirm-cancel]", dialog).focus();
    return new Promise(function (resolve) {
      dialog.addEventListener(
        "close",
        function () {
          resolve(dialog.returnValue === "ok");
        },
        { once: true },
      );
    });
  }
  Rapport.confirm = askConfirm;

  function isHtmxElement(el) {
    return ["hx-get", "hx-post", "hx-put", "hx-patch", "hx-delete"].some(function (a) {
      return el.hasAttribute(a);
    });
  }
  // HTMX requests: ask before htmx issues the request.
  document.addEventListener("htmx:confirm", function (e) {
    var elt = e.detail.elt;
    if (!elt || !elt.hasAttribute || !elt.hasAttribute("data-confirm")) return;
    e.preventDefault();
    askConfirm(elt).then(function (yes) {
      if (yes) e.detail.issueRequest(true);
    });
  });
  // Plain links and submit buttons.
  document.addEventListener(
    "click",
    function (e) {
      var el = e.target.closest("[data-confirm]");
      if (!el || el.tagName === "FORM" || isHtmxElement(el) || el.dataset.confirmed) return;
      if (!(el.tagName === "A" || el.tagName === "BUTTON" || el.tagName === "INPUT")) return;
      e.preventDefault();
      e.stopPropagation();
      askConfirm(el).then(function (yes) {
        if (!yes) return;
        el.dataset.confirmed = "1";
        if (el.tagName === "A") window.location.href = el.href;
        else if (el.form) el.form.requestSubmit(el);
        setTimeout(function () {
          delete el.dataset.confirmed;
        }, 0);
      });
    },
    true,
  );
  // Plain forms.
  document.addEventListener(
    "submit",
    function (e) {
      var form = e.target;
      if (!form.hasAttribute("data-confirm") || isHtmxElement(form) || form.dataset.confirmed) return;
      e.preventDefault();
      e.stopImmediatePropagation();
      var submitter = e.submitter;
      askConfirm(form).then(function (yes) {
        if (!yes) return;
        form.dataset.confirmed = "1";
        form.requestSubmit(submitter || undefined);
        delete form.dataset.confirmed;
      });
    },
    true,
  );

  /* ---------- Submit buttons disabled while submitting ---------- */
  function submitButtons(form) {
    var own = $all('button[type="submit"], button:not([type]), input[type="submit"]', form);
    if (form.id) own = own.concat($all('[form="' + form.id + '"][type="submit"]'));
    return own;
  }
  function setBusy(form, busy) {
    submitButtons(form).forEach(function (b) {
      b.disabled = busy;
    });
    if (busy) form.setAttribute("aria-busy", "true");
    else form.removeAttribute("aria-busy");
  }
  // Bulk forms: copy the selected row ids in just before the request (plain submit or HTMX).
  function fillBulkIds(form) {
    if (!form.hasAttribute("data-bulk-form")) return;
    var box = form.closest("[data-bulk]") || document;
    $all('input[type="hidden"][data-bulk-id]', form).forEach(function (i) {
      i.remove();
    });
    $all("[data-bulk-item]:checked", box).forEach(function (cb) {
      var i = document.createElement("input");
      i.type = "hidden";
      i.name = form.getAttribute("data-bulk-form") || "ids";
      if (i.name === "" || i.name === "true") i.name = "ids";
      i.value = cb.value;
      i.setAttribute("data-bulk-id", "");
      form.appendChild(i);
    });
  }
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (e.defaultPrevented) return;
    fillBulkIds(form);
    if (isHtmxElement(form) || form.method === "dialog") return;
    // Disable after the browser has collected the submitter's name/value.
    setTimeout(function () {
      setBusy(form, true);
    }, 0);
    var delay = form.hasAttribute("data-download") ? 1500 : 15000;
    setTimeout(function () {
      setBusy(form, false);
    }, delay);
  });
  document.addEventListener("htmx:beforeRequest", function (e) {
    var elt = e.detail.elt;
    if (elt && elt.tagName === "FORM") setBusy(elt, true);
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    var elt = e.detail.elt;
    if (elt && elt.tagName === "FORM" && document.contains(elt)) setBusy(elt, false);
  });
  // htmx collects parameters before "submit" listeners on document run; fill ids at configRequest too.
  document.addEventListener("htmx:configRequest", function (e) {
    var elt = e.detail.elt;
    if (!elt || !elt.hasAttribute || !elt.hasAttribute("data-bulk-form")) return;
    var box = elt.closest("[data-bulk]") || document;
    var name = elt.getAttribute("data-bulk-form");
    if (!name || name === "true") name = "ids";
    var ids = $all("[data-bulk-item]:checked", box).map(function (cb) {
      return cb.value;
    });
    if (e.detail.formData && typeof e.detail.formData.delete === "function") {
      e.detail.formData.delete(name);
      ids.forEach(function (id) {
        e.detail.formData.append(name, id);
      });
    } else {
      e.detail.parameters[name] = ids;
    }
  });

  /* ---------- Bulk selection ---------- */
  function refreshBulk(box) {
    var items = $all("[data-bulk-item]", box);
    var checked = items.filter(function (cb) {
      return cb.checked;
    });
    items.forEach(function (cb) {
      var row = cb.closest("tr, [data-row]");
      if (row) row.classList.toggle("is-selected", cb.checked);
    });
    var all = $("[data-bulk-all]", box);
    if (all) {
      all.checked = items.length > 0 && checked.length === items.length;
      all.indeterminate = checked.length > 0 && checked.length < items.length;
    }
    $all("[data-bulk-bar]", box).forEach(function (bar) {
      bar.hidden = checked.length === 0;
    });
    $all("[data-bulk-count]", box).forEach(function (c) {
      c.textContent = checked.length + " selected";
    });
  }
  var lastBulkClicked = null;
  document.addEventListener("click", function (e) {
    var cb = e.target.closest("[data-bulk-item]");
    if (!cb) return;
    var box = cb.closest("[data-bulk]");
    // Shift-click selects the range since the last click, as in mail clients.
    if (e.shiftKey && lastBulkClicked && box && box.contains(lastBulkClicked)) {
      var items = $all("[data-bulk-item]", box);
      var a = items.indexOf(lastBulkClicked);
      var b = items.indexOf(cb);
      if (a >= 0 && b >= 0) {
        items.slice(Math.min(a, b), Math.max(a, b) + 1).forEach(function (i) {
          i.checked = cb.checked;
        });
      }
    }
    lastBulkClicked = cb;
  });
  document.addEventListener("change", function (e) {
    var t = e.target;
    var box = t.closest && t.closest("[data-bulk]");
    if (!box) return;
    if (t.matches("[data-bulk-all]")) {
      $all("[data-bulk-item]", box).forEach(function (cb) {
        cb.checked = t.checked;
      });
    }
    if (t.matches("[data-bulk-all], [data-bulk-item]")) refreshBulk(box);
  });
  document.addEventListener("click", function (e) {
    var clear = e.target.closest("[data-bulk-clear]");
    if (!clear) return;
    var box = clear.closest("[data-bulk]");
    $all("[data-bulk-item], [data-bulk-all]", box).forEach(function (cb) {
      cb.checked = false;
    });
    refreshBulk(box);
  });
  Rapport.refreshBulk = function () {
    $all("[data-bulk]").forEach(refreshBulk);
  };

  /* ---------- Dialogs and menus ---------- */
  document.addEventListener("click", function (e) {
    var opener = e.target.closest("[data-dialog-open]");
    if (opener) {
      var dlg = $(opener.getAttribute("data-dialog-open"));
      if (dlg && typeof dlg.showModal === "function") {
        e.preventDefault();
        closeMenus();
        dlg.showModal();
        var first = $("[autofocus], input:not([type=hidden]), select, textarea", dlg);
        if (first) first.focus();
        loadLazy(dlg, !first);
      }
      return;
    }
    var closer = e.target.closest("[data-dialog-close]");
    if (closer) {
      var d = closer.closest("dialog");
      if (d) {
        e.preventDefault();
        d.close();
      }
    }
    // A click on a dialog's backdrop closes it.
    if (e.target.tagName === "DIALOG" && e.target.open) {
      var r = e.target.getBoundingClientRect();
      if (e.clientX < r.left || e.clientX > r.right || e.clientY < r.top || e.clientY > r.bottom) e.target.close();
    }
  });
  function closeMenus(except) {
    $all("details.menu[open]").forEach(function (d) {
      if (d !== except) d.removeAttribute("open");
    });
  }
  document.addEventListener("click", function (e) {
    var menu = e.target.closest("details.menu");
    closeMenus(menu);
  });
  // Close a dialog whose form succeeded over HTMX (the server answers with HX-Trigger: rapport:close-dialogs).
  document.addEventListener("rapport:close-dialogs", function () {
    $all("dialog[open]").forEach(function (d) {
      d.close();
    });
  });

  /* ---------- Mobile navigation ---------- */
  document.addEventListener("click", function (e) {
    var app = $("[data-app]");
    if (!app) return;
    var toggle = e.target.closest("[data-nav-toggle]");
    if (toggle) {
      var open = !app.classList.contains("is-nav-open");
      app.classList.toggle("is-nav-open", open);
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      return;
    }
    if (e.target.closest("[data-nav-close]")) app.classList.remove("is-nav-open");
  });

  /* ---------- Tabs (e.g. the composer's Note / Call / Meeting) ---------- */
  document.addEventListener("click", function (e) {
    var tab = e.target.closest("[data-tab]");
    if (!tab) return;
    var group = tab.closest("[data-tab-group]");
    if (!group) return;
    e.preventDefault();
    $all("[data-tab]", group).forEach(function (t) {
      var on = t === tab;
      t.setAttribute("aria-selected", on ? "true" : "false");
      t.classList.toggle("is-active", on);
    });
    var input = $("[data-tab-input]", group);
    if (input) input.value = tab.getAttribute("data-tab");
    $all("[data-tab-show]", group).forEach(function (el) {
      var values = el.getAttribute("data-tab-show").split(" ");
      el.hidden = values.indexOf(tab.getAttribute("data-tab")) === -1;
    });
    var placeholder = tab.getAttribute("data-placeholder");
    var field = $("textarea", group);
    if (placeholder && field) field.placeholder = placeholder;
  });

  /* ---------- Filter chips: clear fields and resubmit the filter form ---------- */
  document.addEventListener("click", function (e) {
    var link = e.target.closest("[data-clear-field]");
    var form = $("[data-filter-form]");
    if (!link || !form || !window.htmx) return;
    e.preventDefault();
    var names = link.getAttribute("data-clear-field").split(" ");
    $all("input, select", form).forEach(function (el) {
      if (!el.name || el.type === "hidden" || el.type === "submit") return;
      if (names.indexOf("*") !== -1 || names.indexOf(el.name) !== -1) el.value = "";
    });
    form.requestSubmit();
  });

  /* ---------- Repeatable inputs (several emails, phones, links) ---------- */
  document.addEventListener("click", function (e) {
    var add = e.target.closest("[data-repeat-add]");
    if (add) {
      var list = add.closest("[data-repeat]");
      var rows = $all("[data-repeat-row]", list);
      var last = rows[rows.length - 1];
      var copy = last.cloneNode(true);
      var input = $("input", copy);
      input.value = "";
      input.id = input.id.replace(/_\d+$/, "") + "_" + rows.length;
      input.removeAttribute("aria-invalid");
      last.after(copy);
      input.focus();
      return;
    }
    var remove = e.target.closest("[data-repeat-remove]");
    if (remove) {
      var row = remove.closest("[data-repeat-row]");
      var box = row.closest("[data-repeat]");
      if ($all("[data-repeat-row]", box).length > 1) row.remove();
      else $("input", row).value = "";
    }
  });

  /* ---------- Inline validation: ask the server about a field when the user leaves it ---------- */
  document.addEventListener("focusout", function (e) {
    var input = e.target;
    var form = input.form;
    if (!form || !form.hasAttribute("data-validate-url") || !input.name || !window.htmx) return;
    var field = input.closest(".field[id^='field-']");
    if (!field) return;
    // Moving between rows of one field (e.g. two emails) is not leaving it.
    if (e.relatedTarget && field.contains(e.relatedTarget)) return;
    var snapshot = $all("input, select, textarea", field)
      .map(function (el) {
        return el.value;
      })
      .join("\u0000");
    if (field.dataset.validated === snapshot) return;
    field.dataset.validated = snapshot;
    var fd = new FormData(form);
    var values = { _field: input.name };
    fd.forEach(function (v, k) {
      if (typeof v !== "string") return;
      if (values[k] === undefined) values[k] = v;
      else values[k] = [].concat(values[k], v);
    });
    values._field = input.name;
    window.htmx.ajax("POST", form.getAttribute("data-validate-url"), {
      target: "#" + field.id,
      swap: "outerHTML",
      values: values,
    });
  });

  /* ---------- Quick actions that open a composer tab ---------- */
  document.addEventListener("click", function (e) {
    var btn = e.target.closest("[data-activate-tab]");
    if (!btn) return;
    var tab = $('[data-tab="' + btn.getAttribute("data-activate-tab") + '"]');
    if (!tab) return;
    e.preventDefault();
    tab.click();
    var group = tab.closest("[data-tab-group]");
    var field = group && $("textarea", group);
    if (field) {
      field.scrollIntoView({ block: "center" });
      field.focus();
    }
  });

  /* ---------- Quick actions that open a collapsed panel ---------- */
  var FIELDS = "select, input:not([type=hidden]), textarea";
  document.addEventListener("click", function (e) {
    var btn = e.target.closest("[data-open-details]");
    if (!btn) return;
    var panel = $(btn.getAttribute("data-open-details"));
    if (!panel) return;
    e.preventDefault();
    panel.open = true;
    panel.scrollIntoView({ block: "start" });
    var field = $(FIELDS, panel);
    if (field) field.focus();
    // Its form is not there yet: fetch it, then focus its first field.
    else loadLazy(panel, true);
  });

  /* ---------- Parts fetched when first shown (includes/lazy_body.html) ---------- */
  // Only the holders whose nearest <details>/<dialog> is `container` load, so a closed panel inside an open one
  // waits for its own turn.
  function loadLazy(container, focusFirst) {
    var holders = $all("[data-lazy]:not([data-lazy-loading])", container).filter(function (h) {
      return h.parentElement.closest("details, dialog") === container;
    });
    holders.forEach(function (holder) {
      var refresh = holder.hasAttribute("data-lazy-refresh");
      holder.setAttribute("data-lazy-loading", "");
      holder.setAttribute("aria-busy", "true");
      htmx
        .ajax("GET", holder.getAttribute("data-lazy"), {
          source: holder,
          target: holder,
          swap: refresh ? "innerHTML" : "outerHTML",
        })
        .then(function () {
          holder.removeAttribute("data-lazy-loading");
          holder.removeAttribute("aria-busy");
          var field = focusFirst && $(FIELDS, container);
          if (field) field.focus();
        });
    });
  }
  document.addEventListener(
    "toggle",
    function (e) {
      var panel = e.target;
      if (panel.tagName === "DETAILS" && panel.open) loadLazy(panel, false);
    },
    true,
  );
  function lazyFailed(e) {
    var holder = e.detail.elt;
    if (!holder || !holder.hasAttribute || !holder.hasAttribute("data-lazy")) return;
    holder.removeAttribute("data-lazy-loading");
    holder.removeAttribute("aria-busy");
    var note = document.createElement("p");
    note.className = "alert alert--danger";
    note.textContent = "This part could not be loaded. Close it and open it again to retry.";
    holder.replaceChildren(note);
  }
  document.addEventListener("htmx:responseError", lazyFailed);
  document.addEventListener("htmx:sendError", lazyFailed);

  /* ---------- Ctrl/Cmd+Enter sends a form marked data-submit-shortcut (the inline reply) ---------- */
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Enter" || !(e.ctrlKey || e.metaKey) || e.target.tagName !== "TEXTAREA") return;
    var form = e.target.form;
    if (!form || !form.hasAttribute("data-submit-shortcut")) return;
    e.preventDefault();
    form.requestSubmit();
  });

  /* ---------- Keyboard shortcuts ---------- */
  function isTyping(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }
  var GO = { c: "/", j: "/jobs/", i: "/inbox/", t: "/tasks/", q: "/sequences/", r: "/triggers/", p: "/pools/", s: "/accounts/settings/" };
  var pendingG = 0;

  function listRows() {
    var list = $("[data-list]");
    return list ? $all("[data-row]", list) : [];
  }
  function moveCursor(delta) {
    var rows = listRows();
    if (!rows.length) return;
    var idx = rows.findIndex(function (r) {
      return r.classList.contains("is-cursor");
    });
    var next = idx === -1 ? (delta > 0 ? 0 : rows.length - 1) : Math.max(0, Math.min(rows.length - 1, idx + delta));
    rows.forEach(function (r) {
      r.classList.remove("is-cursor");
    });
    rows[next].classList.add("is-cursor");
    rows[next].scrollIntoView({ block: "nearest" });
  }
  function cursorRow() {
    return listRows().find(function (r) {
      return r.classList.contains("is-cursor");
    });
  }
  function showShortcuts() {
    var d = $("#shortcuts-dialog");
    if (d && !d.open) d.showModal();
  }
  document.addEventListener("click", function (e) {
    if (e.target.closest("[data-shortcuts-open]")) {
      closeMenus();
      showShortcuts();
    }
  });

  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "Escape" && isTyping(document.activeElement) && !document.activeElement.closest("dialog")) {
      document.activeElement.blur();
      return;
    }
    if (isTyping(e.target) || $("dialog[open]")) return;
    var key = e.key;
    var now = Date.now();
    if (pendingG && now - pendingG < 1500) {
      pendingG = 0;
      var dest = GO[key];
      if (dest) {
        e.preventDefault();
        window.location.href = dest;
      }
      return;
    }
    pendingG = 0;
    if (key === "g") {
      pendingG = now;
      return;
    }
    if (key === "/") {
      var search = $("[data-search-primary]") || $("[data-global-search]");
      if (search) {
        e.preventDefault();
        search.focus();
        search.select();
      }
    } else if (key === "?") {
      e.preventDefault();
      showShortcuts();
    } else if (key === "j") {
      if (!listRows().length) return;
      e.preventDefault();
      moveCursor(1);
    } else if (key === "k") {
      if (!listRows().length) return;
      e.preventDefault();
      moveCursor(-1);
    } else if (key === "Enter") {
      var row = cursorRow();
      var link = row && $("[data-row-link]", row);
      if (link && (document.activeElement === document.body || !document.activeElement)) {
        e.preventDefault();
        window.location.href = link.href;
      }
    } else if (key === "x") {
      var r = cursorRow();
      var cb = r && $("[data-bulk-item]", r);
      if (cb) {
        e.preventDefault();
        cb.click();
      }
    } else if (key === "e") {
      var edit = $('[data-shortcut="edit"]');
      if (edit) {
        e.preventDefault();
        if (edit.href) window.location.href = edit.href;
        else edit.click();
      }
    } else if (key === "n") {
      var note = $('[data-shortcut="note"]');
      if (note) {
        e.preventDefault();
        note.scrollIntoView({ block: "center" });
        note.focus();
      }
    }
  });

  /* ---------- After every load and swap ---------- */
  // A conversation reads like a chat: a newly shown list ([data-scroll-end]) starts scrolled to its newest item.
  function scrollToEnd() {
    $all("[data-scroll-end]:not([data-scrolled])").forEach(function (el) {
      el.scrollTop = el.scrollHeight;
      el.setAttribute("data-scrolled", "");
    });
  }
  function init() {
    armAllToasts();
    Rapport.refreshBulk();
    scrollToEnd();
  }
  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", init);
  document.addEventListener("htmx:oobAfterSwap", armAllToasts);
  document.addEventListener("click", function (e) {
    var close = e.target.closest("[data-toast-close]");
    if (close) dismissToast(close.closest("[data-toast]"));
  });
  // Copy-to-clipboard buttons (e.g. a new API token): data-copy="#selector".
  document.addEventListener("click", function (e) {
    var btn = e.target.closest("[data-copy]");
    if (!btn) return;
    var src = $(btn.getAttribute("data-copy"));
    if (!src || !navigator.clipboard) return;
    navigator.clipboard.writeText((src.value || src.textContent || "").trim()).then(function () {
      toast("Copied to the clipboard", "success");
    });
  });
})();
