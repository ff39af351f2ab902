/*
 * The job board: move applications between stages by drag-and-drop (vendored SortableJS), by keyboard, or from the
 * card menu; reject or mark as withdrawn through dialogs. Every change is posted to the pipeline endpoints asking
 * for JSON; the answer carries the new column counts, so the page never reloads. When the server refuses, the card
 * goes back where it was and an error toast says why.
 *
 * Keyboard, with a card focused:  [ or ←  previous stage · ] or →  next stage · m  the card menu ·
 *                                 ↑ / ↓  previous / next card · Enter  open the profile
 * In the card menu, 1–9 move to that stage.
 */
(function () {
  "use strict";

  var Rapport = window.Rapport || {};
  var currentCard = null; // the card the menu or a dialog is acting on

  function $(sel, root) {
    return (root || document).querySelector(sel);
  }
  function $all(sel, root) {
    return Array.prototype.slice.call((root || document).querySelectorAll(sel));
  }
  function toast(message, level) {
    if (Rapport.toast) Rapport.toast(message, level || "success");
  }
  function csrfToken() {
    if (Rapport.csrfToken) return Rapport.csrfToken();
    var meta = $('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }
  function board() {
    return $("[data-kanban]");
  }
  function canMove() {
    var b = board();
    return !!b && b.getAttribute("data-can-move") === "1";
  }
  function urlFor(kind, id) {
    return board()
      .getAttribute("data-" + kind + "-url")
      .replace("/0/", "/" + id + "/");
  }
  function columns() {
    return $all("[data-column]", board());
  }
  function columnOf(card) {
    return card.closest("[data-column]");
  }

  function post(url, formData) {
    formData.append("closed", board().getAttribute("data-closed"));
    return fetch(url, {
      method: "POST",
      body: formData,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
    }).then(function (response) {
      return response
        .json()
        .catch(function () {
          return {};
        })
        .then(function (body) {
          return { ok: response.ok, status: response.status, body: body };
        });
    });
  }

  function refusal(result) {
    var error = (result.body && result.body.error) || {};
    if (error.message) return error.message;
    if (result.status === 403) return "Your role does not allow moving applications.";
    if (result.status === 404) return "This application no longer exists or is not visible to you.";
    return "The move did not go through (" + result.status + "). Please try again.";
  }
  var OFFLINE = "Cannot reach Rapport. Check your connection and try again.";

  /* ---------- Counts and placement ---------- */
  function applyCounts(counts) {
    var total = 0;
    columns().forEach(function (column) {
      var n = Number(counts[column.getAttribute("data-stage-id")] || 0);
      total += n;
      var badge = $("[data-count]", column);
      if (badge) {
        badge.textContent = n;
        badge.setAttribute("aria-label", n + " in " + column.getAttribute("data-stage-name"));
      }
    });
    var totalEl = $("[data-board-total]");
    if (totalEl) totalEl.textContent = total;
    refreshEmpty();
  }
  function refreshEmpty() {
    columns().forEach(function (column) {
      var empty = $("[data-empty]", column);
      if (empty) empty.hidden = !!$("[data-card]", column);
    });
  }
  // Cards sit above the "Show more" button and the empty placeholder, whatever a drop did.
  function tidy(list) {
    var more = $("[data-more]", list);
    var empty = $("[data-empty]", list);
    if (more) list.appendChild(more);
    if (empty) list.appendChild(empty);
  }
  function placeAtEnd(card, column) {
    var list = $("[data-cards]", column);
    list.insertBefore(card, $("[data-more]", list) || $("[data-empty]", list));
  }
  function remember(card) {
    return { parent: card.parentNode, next: card.nextSibling };
  }
  function putBack(card, origin) {
    if (origin && origin.parent) origin.parent.insertBefore(card, origin.next);
    refreshEmpty();
  }
  function setDays(card, days) {
    var text = $("[data-days-text]", card);
    var holder = $("[data-days]", card);
    if (text) text.textContent = days + "d";
    if (holder) {
      holder.title = days + (days === 1 ? " day" : " days") + " in this stage";
      holder.classList.toggle("is-stale", days >= 14);
    }
  }
  function markStatus(card, status, label) {
    card.setAttribute("data-status", status);
    card.classList.remove("is-locked", "is-rejected", "is-withdrawn", "is-hired");
    var badge = $("[data-status-badge]", card);
    if (status === "active") {
      if (badge) badge.remove();
      return;
    }
    card.classList.add("is-locked", "is-" + status);
    if (!badge) {
      badge = document.createElement("span");
      badge.setAttribute("data-status-badge", "");
      var days = $("[data-days]", card);
      days.parentNode.insertBefore(badge, days.nextSibling);
    }
    badge.className = "badge badge--app-" + status;
    badge.textContent = label;
  }
  function flash(card) {
    card.classList.remove("is-just-moved");
    void card.offsetWidth; // restart the animation
    card.classList.add("is-just-moved");
  }

  /* ---------- Moving ---------- */
  function move(card, stageId, origin) {
    if (card.getAttribute("aria-busy") === "true") return;
    if (String(stageId) === card.getAttribute("data-stage-id")) {
      putBack(card, origin);
      return;
    }
    var data = new FormData();
    data.append("stage_id", stageId);
    card.setAttribute("aria-busy", "true");
    refreshEmpty();
    post(urlFor("move", card.getAttribute("data-id")), data)
      .then(function (result) {
        card.removeAttribute("aria-busy");
        if (!result.ok) {
          putBack(card, origin);
          toast(refusal(result), "error");
          return;
        }
        var application = result.body.application || {};
        card.setAttribute("data-stage-id", application.stage_id || stageId);
        setDays(card, application.days_in_stage || 0);
        markStatus(card, application.status || "active", application.status_display || "");
        applyCounts(result.body.counts || {});
        flash(card);
        toast(result.body.message || "Moved.", "success");
      })
      .catch(function () {
        card.removeAttribute("aria-busy");
        putBack(card, origin);
        toast(OFFLINE, "error");
      });
  }

  // Keyboard and menu moves: the card goes to the end of the target column (it has waited there least) and keeps
  // focus, so several presses walk it along the pipeline.
  function moveTo(card, column) {
    if (!column || column === columnOf(card)) return;
    if (card.classList.contains("is-locked")) {
      toast("This application is " + card.getAttribute("data-status") + "; reopen it before moving it.", "error");
      return;
    }
    var origin = remember(card);
    placeAtEnd(card, column);
    card.focus();
    card.scrollIntoView({ block: "nearest", inline: "nearest" });
    move(card, column.getAttribute("data-stage-id"), origin);
  }
  function neighbourColumn(card, step) {
    var all = columns();
    return all[all.indexOf(columnOf(card)) + step] || null;
  }

  /* ---------- Drag and drop ---------- */
  function initSortable() {
    if (!window.Sortable || !board() || !canMove()) return;
    $all("[data-cards]", board()).forEach(function (list) {
      if (list.getAttribute("data-sortable") === "1") return;
      list.setAttribute("data-sortable", "1");
      var origin = null;
      window.Sortable.create(list, {
        group: "kanban",
        draggable: "[data-card]",
        filter: ".is-locked, [data-card-menu]",
        preventOnFilter: false,
        animation: 150,
        // Pointer events rather than native drag-and-drop: the same feel in every browser and on touch screens.
        forceFallback: true,
        fallbackTolerance: 4,
        delay: 180,
        delayOnTouchOnly: true,
        onStart: function (evt) {
          origin = remember(evt.item);
          $all("[data-cards]", board()).forEach(function (l) {
            if (l !== evt.from) l.classList.add("is-drop-target");
          });
        },
        onEnd: function (evt) {
          $all(".is-drop-target", board()).forEach(function (l) {
            l.classList.remove("is-drop-target");
          });
          if (evt.to === evt.from) {
            // Order inside a column is by waiting time, not by hand.
            putBack(evt.item, origin);
            return;
          }
          tidy(evt.to);
          move(evt.item, columnOf(evt.item).getAttribute("data-stage-id"), origin);
        },
      });
    });
  }

  /* ---------- Card menu ---------- */
  function menuDialog() {
    return $("[data-card-menu-dialog]");
  }
  function openMenu(card) {
    var dialog = menuDialog();
    if (!dialog || !canMove()) return;
    currentCard = card;
    var column = columnOf(card);
    var locked = card.classList.contains("is-locked");
    $all("[data-dialog-name]", dialog).forEach(function (el) {
      el.textContent = card.getAttribute("data-name");
    });
    var days = $("[data-days-text]", card);
    $("[data-card-menu-where]", dialog).textContent =
      "In " + column.getAttribute("data-stage-name") + (days ? " for " + days.textContent : "");
    $("[data-card-menu-active]", dialog).hidden = locked;
    $("[data-card-menu-locked]", dialog).hidden = !locked;
    if (locked) {
      $("[data-card-menu-locked-text]", dialog).textContent =
        "This application is " + card.getAttribute("data-status") + ". Reopen it to move it again.";
    }
    $all("[data-move-to]", dialog).forEach(function (button) {
      var here = button.getAttribute("data-move-to") === card.getAttribute("data-stage-id");
      button.disabled = here;
      if (here) button.setAttribute("aria-current", "true");
      else button.removeAttribute("aria-current");
    });
    $("[data-card-menu-profile]", dialog).href = "/candidates/" + card.getAttribute("data-candidate-id") + "/";
    dialog.showModal();
    var first = locked ? $('[data-card-action="reopen"]', dialog) : $("[data-move-to]:not([disabled])", dialog);
    if (first) first.focus();
  }
  function afterDialog(card) {
    if (card && document.contains(card)) card.focus();
  }

  document.addEventListener("click", function (e) {
    var trigger = e.target.closest("[data-card-menu]");
    if (trigger && board() && board().contains(trigger)) {
      e.preventDefault();
      openMenu(trigger.closest("[data-card]"));
      return;
    }
    var dialog = menuDialog();
    if (!dialog || !dialog.contains(e.target) || !currentCard) return;
    var target = e.target.closest("[data-move-to]");
    var card = currentCard;
    if (target && !target.disabled) {
      dialog.close();
      var column = $('[data-column][data-stage-id="' + target.getAttribute("data-move-to") + '"]', board());
      moveTo(card, column);
      return;
    }
    var action = e.target.closest("[data-card-action]");
    if (!action) return;
    dialog.close();
    var kind = action.getAttribute("data-card-action");
    if (kind === "reopen") reopen(card);
    else openForm(kind, card);
  });

  /* ---------- Reject and withdraw dialogs ---------- */
  function formDialog(kind) {
    var form = $('[data-kanban-form="' + kind + '"]');
    return form ? form.closest("dialog") : null;
  }
  function clearErrors(form) {
    $all("[data-error-for]", form).forEach(function (el) {
      el.hidden = true;
      el.textContent = "";
    });
    $all("[aria-invalid]", form).forEach(function (el) {
      el.removeAttribute("aria-invalid");
      el.removeAttribute("aria-describedby");
    });
    $all(".field--invalid", form).forEach(function (el) {
      el.classList.remove("field--invalid");
    });
    var general = $("[data-form-error]", form);
    if (general) {
      general.hidden = true;
      general.textContent = "";
    }
  }
  function showErrors(form, body) {
    var error = (body && body.error) || {};
    var fields = error.fields || {};
    var placed = false;
    Object.keys(fields).forEach(function (name) {
      var slot = $('[data-error-for="' + name + '"]', form);
      if (!slot) return;
      slot.textContent = fields[name].join(" ");
      slot.hidden = false;
      var field = slot.closest(".field");
      if (field) field.classList.add("field--invalid");
      var input = form.elements[name];
      if (input && input.setAttribute) {
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", slot.id);
        if (!placed) input.focus();
      }
      placed = true;
    });
    if (!placed) {
      var general = $("[data-form-error]", form);
      general.textContent = error.message || "That did not work. Please try again.";
      general.hidden = false;
    }
  }
  function openForm(kind, card) {
    var dialog = formDialog(kind);
    if (!dialog) return;
    currentCard = card;
    var form = $("form", dialog);
    form.reset();
    clearErrors(form);
    form.action = urlFor(kind, card.getAttribute("data-id"));
    $all("[data-dialog-name]", dialog).forEach(function (el) {
      el.textContent = card.getAttribute("data-name");
    });
    dialog.showModal();
    var first = $("select, textarea", form);
    if (first) first.focus();
  }
  function closeApplication(card, result) {
    var application = result.body.application || {};
    var showClosed = board().getAttribute("data-closed") === "1";
    var siblings = $all("[data-card]", columnOf(card));
    var index = siblings.indexOf(card);
    var next = siblings[index + 1] || siblings[index - 1] || null;
    if (showClosed) {
      markStatus(card, application.status, application.status_display);
    } else {
      card.remove();
    }
    applyCounts(result.body.counts || {});
    toast(result.body.message || "Done.", "success");
    var focusTarget = showClosed ? card : next;
    if (focusTarget) focusTarget.focus();
  }
  document.addEventListener("submit", function (e) {
    var form = e.target.closest("[data-kanban-form]");
    if (!form || !currentCard) return;
    e.preventDefault();
    var card = currentCard;
    var dialog = form.closest("dialog");
    var submit = $('[type="submit"]', form);
    clearErrors(form);
    if (submit) submit.disabled = true;
    post(form.action, new FormData(form))
      .then(function (result) {
        if (submit) submit.disabled = false;
        if (!result.ok) {
          if (result.status === 422) {
            showErrors(form, result.body);
          } else {
            dialog.close();
            toast(refusal(result), "error");
            afterDialog(card);
          }
          return;
        }
        dialog.close();
        closeApplication(card, result);
      })
      .catch(function () {
        if (submit) submit.disabled = false;
        showErrors(form, { error: { message: OFFLINE } });
      });
  });

  function reopen(card) {
    post(urlFor("reopen", card.getAttribute("data-id")), new FormData())
      .then(function (result) {
        if (!result.ok) {
          toast(refusal(result), "error");
          return;
        }
        markStatus(card, "active", "");
        applyCounts(result.body.counts || {});
        toast(result.body.message || "Reopened.", "success");
        card.focus();
      })
      .catch(function () {
        toast(OFFLINE, "error");
      });
  }

  /* ---------- Keyboard ---------- */
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var dialog = menuDialog();
    if (dialog && dialog.open && /^[1-9]$/.test(e.key)) {
      var buttons = $all("[data-move-to]", dialog);
      var button = buttons[Number(e.key) - 1];
      if (button && !button.disabled && !$("[data-card-menu-active]", dialog).hidden) {
        e.preventDefault();
        button.click();
      }
      return;
    }
    var card = e.target.closest && e.target.closest("[data-card]");
    if (!card || e.target !== card || !board() || !board().contains(card)) return;
    var key = e.key;
    if (key === "ArrowDown" || key === "ArrowUp") {
      e.preventDefault();
      var cards = $all("[data-card]", columnOf(card));
      var sibling = cards[cards.indexOf(card) + (key === "ArrowDown" ? 1 : -1)];
      if (sibling) sibling.focus();
      return;
    }
    if (key === "Enter") {
      e.preventDefault();
      var link = $(".kanban-card__name", card);
      if (link) window.location.href = link.href;
      return;
    }
    if (!canMove()) return;
    if (key === "[" || key === "ArrowLeft" || key === "]" || key === "ArrowRight") {
      e.preventDefault();
      var step = key === "[" || key === "ArrowLeft" ? -1 : 1;
      var column = neighbourColumn(card, step);
      if (column) moveTo(card, column);
    } else if (key === "m" || key === "M") {
      e.preventDefault();
      openMenu(card);
    }
  });
  // Return focus to the card after closing a dialog with Escape or Cancel.
  document.addEventListener(
    "close",
    function (e) {
      if (e.target.matches && e.target.matches("#card-menu, #reject-dialog, #withdraw-dialog")) {
        var card = currentCard;
        setTimeout(function () {
          if (!$("dialog[open]")) afterDialog(card);
        }, 0);
      }
    },
    true,
  );

  /* ---------- Refresh after people are added ---------- */
  document.addEventListener("kanban-refresh", function () {
    var b = board();
    if (!b || !window.htmx) return;
    var url = b.getAttribute("data-board-url") + (b.getAttribute("data-closed") === "1" ? "?closed=1" : "");
    window.htmx.ajax("GET", url, { target: "#kanban", swap: "innerHTML" });
  });

  function init() {
    initSortable();
    refreshEmpty();
  }
  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", init);
})();
