/* tidings console: progressive enhancement. Every page works without this file; with it,
   pages update live (Server-Sent Events from /live), counters count as you type, and the
   theme follows your choice. Loaded in <head> so the chosen theme applies before paint. */
"use strict";

(function theme() {
  var saved = null;
  try { saved = localStorage.getItem("tidings-theme"); } catch (e) { /* private mode */ }
  if (saved === "light" || saved === "dark") document.documentElement.dataset.theme = saved;
})();

var tidings = (function () {
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function currentTheme() {
    var chosen = document.documentElement.dataset.theme;
    if (chosen) return chosen;
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }

  function setupTheme() {
    document.querySelectorAll("[data-theme-toggle]").forEach(function (button) {
      var update = function () { button.setAttribute("aria-pressed", currentTheme() === "dark" ? "true" : "false"); };
      update();
      button.addEventListener("click", function () {
        var next = currentTheme() === "dark" ? "light" : "dark";
        document.documentElement.dataset.theme = next;
        try { localStorage.setItem("tidings-theme", next); } catch (e) { /* ignore */ }
        update();
      });
    });
  }

  function setupNav() {
    var toggle = document.querySelector("[data-nav-toggle]");
    var nav = document.getElementById("sidenav");
    if (!toggle || !nav) return;
    toggle.addEventListener("click", function () {
      var open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  // Re-read a region's HTML from its data-fragment URL, at most once per `wait` ms.
  var pending = new Map();
  function refresh(region, wait) {
    if (pending.has(region)) return;
    pending.set(region, setTimeout(function () {
      pending.delete(region);
      var url = region.dataset.fragment;
      fetch(url, { headers: { "Accept": "text/html" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (html === null) return;
          var focused = document.activeElement && region.contains(document.activeElement) ? document.activeElement.id : null;
          // Keep open what the person opened (a delivery's request and responses).
          var open = [];
          region.querySelectorAll("details[open]").forEach(function (d) {
            var owner = d.closest("[id]");
            if (owner && region.contains(owner)) open.push(owner.id);
          });
          region.innerHTML = html;
          open.forEach(function (id) {
            var owner = document.getElementById(id);
            var details = owner && owner.querySelector("details");
            if (details) details.open = true;
          });
          if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
          region.dispatchEvent(new CustomEvent("tidings:refreshed", { bubbles: true }));
        });
    }, wait));
  }

  function refreshRegions(topic, data) {
    document.querySelectorAll("[data-refresh-on]").forEach(function (region) {
      if (region.dataset.refreshOn.split(" ").indexOf(topic) < 0) return;
      // A region about one thing (a message) only follows that thing's changes.
      if (region.dataset.refreshId && data && data.id && data.id !== region.dataset.refreshId) return;
      refresh(region, Number(region.dataset.refreshWait || 700));
    });
  }

  function updateStatus(data) {
    document.querySelectorAll('[data-message-id="' + data.id + '"] [data-status]').forEach(function (badge) {
      if (badge.dataset.status === data.status) return;
      badge.className = badge.className.replace(/status-[a-z]+/, "status-" + data.status);
      badge.dataset.status = data.status;
      badge.textContent = data.status;
      badge.classList.add("changed");
    });
  }

  var handlers = {};
  function on(topic, handler) { (handlers[topic] = handlers[topic] || []).push(handler); }

  function setupLive() {
    var topics = (document.body.dataset.live || "").split(" ").filter(Boolean);
    if (!topics.length || !window.EventSource) return;
    var indicator = document.querySelector("[data-live-indicator]");
    var url = "/live?topics=" + encodeURIComponent(topics.join(","));
    if (document.body.dataset.liveSince) url += "&since=" + encodeURIComponent(document.body.dataset.liveSince);
    var source = new EventSource(url);
    source.addEventListener("open", function () {
      if (indicator) { indicator.hidden = false; indicator.dataset.state = "live"; indicator.textContent = "live"; }
    });
    source.addEventListener("error", function () {
      if (indicator) { indicator.dataset.state = "lost"; indicator.textContent = "reconnecting"; }
    });
    topics.concat(["resync"]).forEach(function (topic) {
      source.addEventListener(topic, function (event) {
        var data = {};
        try { data = JSON.parse(event.data || "{}"); } catch (e) { /* keep {} */ }
        if (topic === "status") updateStatus(data);
        (handlers[topic] || []).forEach(function (handler) { handler(data); });
        if (topic === "resync") {
          topics.forEach(function (t) { refreshRegions(t, null); });
        } else {
          refreshRegions(topic, data);
        }
      });
    });
    window.addEventListener("pagehide", function () { source.close(); });
  }

  function debounce(fn, wait) {
    var timer = null;
    return function () {
      var args = arguments;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(null, args); }, wait);
    };
  }

  function postJson(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrfToken() },
      body: JSON.stringify(body)
    }).then(function (r) { return r.json().then(function (data) { return { ok: r.ok, status: r.status, data: data }; }); });
  }

  // The compose page's counter: encoding and parts of the text so far, planned on the server
  // by the same function as /v1/messages/preview, so the two never disagree.
  var ENCODING_NAMES = { gsm7: "GSM-7", ucs2: "UCS-2 (Unicode)", binary: "binary" };
  function setupCounter() {
    document.querySelectorAll("[data-counter]").forEach(function (box) {
      var output = document.querySelector("[data-counter-output]");
      if (!output) return;
      var update = debounce(function () {
        var text = box.value;
        if (!text) {
          output.textContent = "Type a message to see its encoding and parts.";
          delete output.dataset.encoding; delete output.dataset.parts;
          return;
        }
        postJson("/compose/preview", { body: text, max_parts: Number(output.dataset.maxParts) || null }).then(function (answer) {
          if (box.value !== text) return;  // a newer keystroke will answer
          if (!answer.ok) {
            output.textContent = answer.data.error || answer.data.detail || "This text cannot be sent.";
            output.dataset.encoding = ""; output.dataset.parts = "";
            return;
          }
          var d = answer.data;
          output.dataset.encoding = d.encoding; output.dataset.parts = d.parts; output.dataset.units = d.units;
          output.textContent = (ENCODING_NAMES[d.encoding] || d.encoding) + " · " + d.parts + (d.parts === 1 ? " part" : " parts") +
            " · " + d.units + " characters · " + d.price + " " + d.currency + " per recipient";
        });
      }, 150);
      box.addEventListener("input", update);
      if (box.value) update();
    });
  }

  // The voice composer's Listen button: the call's speech, rendered on the server by the same
  // engine and options as the call (and /v1/messages/preview with Accept: audio/wav), played here.
  function setupVoicePreview() {
    document.querySelectorAll("[data-voice-preview]").forEach(function (box) {
      var form = box.closest("form");
      var button = box.querySelector("[data-voice-listen]");
      var audio = box.querySelector("[data-voice-audio]");
      var output = box.querySelector("[data-voice-output]");
      var text = form.querySelector("[data-voice-text]");
      var played = null;
      button.addEventListener("click", function () {
        var asked = { body: text.value, lang: form.elements.lang.value, voice: form.elements.voice.value };
        output.textContent = "Rendering the speech…";
        button.disabled = true;
        fetch("/compose/voice/preview", {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "Accept": "audio/wav", "X-CSRF-Token": csrfToken() },
          body: JSON.stringify(asked)
        }).then(function (r) {
          if (!r.ok) {
            return r.json().then(function (data) {
              audio.hidden = true;
              output.textContent = data.error || data.detail || "This text cannot be spoken.";
              delete output.dataset.seconds;
            });
          }
          var seconds = r.headers.get("X-Voice-Seconds");
          var units = Number(r.headers.get("X-Voice-Units"));
          return r.blob().then(function (wav) {
            if (played) URL.revokeObjectURL(played);
            played = URL.createObjectURL(wav);
            audio.src = played;
            audio.hidden = false;
            output.dataset.seconds = seconds;
            output.textContent = seconds + " s of speech · " + units + (units === 1 ? " voice message" : " voice messages");
            audio.play().catch(function () { /* the player is there to press */ });
          });
        }).catch(function () {
          output.textContent = "The preview could not be fetched; try again.";
        }).finally(function () { button.disabled = false; });
      });
    });
  }

  // Fax and letter composers: the pages as they will be sent (rendered on the server by the
  // fax and print transports' functions), shown before sending.
  function setupDocumentPreview() {
    document.querySelectorAll("[data-document-preview]").forEach(function (box) {
      var form = box.closest("form");
      var button = box.querySelector("[data-document-preview-button]");
      var output = box.querySelector("[data-document-preview-output]");
      var pages = box.querySelector("[data-document-pages]");
      button.addEventListener("click", function () {
        output.textContent = "Rendering the pages…";
        button.disabled = true;
        fetch("/compose/document/preview", {
          method: "POST",
          credentials: "same-origin",
          headers: { "Accept": "application/json", "X-CSRF-Token": csrfToken() },
          body: new FormData(form)
        }).then(function (r) {
          return r.json().then(function (data) {
            pages.replaceChildren();
            if (!r.ok) {
              output.textContent = data.error || data.detail || "These pages cannot be sent.";
              delete output.dataset.pages;
              return;
            }
            output.dataset.pages = data.pages;
            output.textContent = data.pages + (data.pages === 1 ? " page" : " pages") +
              (data.shown.length < data.pages ? " (the first " + data.shown.length + " shown)" : "");
            data.shown.forEach(function (url, index) {
              var image = document.createElement("img");
              image.src = url;
              image.alt = "Page " + (index + 1) + " of " + data.pages;
              pages.appendChild(image);
            });
          });
        }).catch(function () {
          output.textContent = "The preview could not be fetched; try again.";
        }).finally(function () { button.disabled = false; });
      });
    });
  }

  // WhatsApp composer: only the chosen template's values are shown (and sent); From becomes
  // the template's business number; the text the handset will show is filled in as you type.
  // Without this script every template's values show, and the chosen one's are read.
  function setupWhatsAppCompose() {
    document.querySelectorAll("[data-whatsapp-compose]").forEach(function (box) {
      var form = box.closest("form");
      var select = box.querySelector("select");
      var own = form.querySelector("[data-whatsapp-own]");
      var preview = form.querySelector("[data-whatsapp-preview]");
      var sender = form.querySelector("#from");
      function chosenSet() {
        return form.querySelector('[data-template-parameters="' + select.value + '"]');
      }
      var headerPreview = form.querySelector("[data-whatsapp-header-preview]");
      var headerUrl = null;
      // The header's file as the handset will show it: the one being uploaded, else the one
      // chosen from the media store.
      function showHeader(set) {
        var kind = select.value ? select.options[select.selectedIndex].dataset.headerKind : "";
        if (headerUrl) { URL.revokeObjectURL(headerUrl); headerUrl = null; }
        headerPreview.replaceChildren();
        headerPreview.hidden = true;
        if (!set || !kind) return;
        var upload = set.querySelector("[data-header-file]");
        var choice = set.querySelector("[data-header-choice]");
        var src = null;
        var name = "";
        if (upload && upload.files.length) {
          headerUrl = src = URL.createObjectURL(upload.files[0]);
          name = upload.files[0].name;
        } else if (choice && choice.value) {
          var option = choice.options[choice.selectedIndex];
          src = option.dataset.url;
          name = option.textContent;
        }
        var caption = document.createElement("figcaption");
        if (!src) {
          caption.textContent = "The header's " + kind + " is still to be given.";
          headerPreview.append(caption);
          headerPreview.hidden = false;
          return;
        }
        if (kind === "image") {
          var img = document.createElement("img");
          img.src = src;
          img.alt = "The header picture: " + name;
          headerPreview.append(img);
        } else if (kind === "video") {
          var video = document.createElement("video");
          video.src = src;
          video.controls = true;
          video.setAttribute("aria-label", "The header video: " + name);
          headerPreview.append(video);
        }
        caption.textContent = "Header " + kind + ": " + name;
        headerPreview.append(caption);
        headerPreview.hidden = false;
      }
      function showPreview() {
        var set = select.value ? chosenSet() : null;
        showHeader(set);
        if (!set) { preview.hidden = true; return; }
        var text = set.querySelector("[data-template-text]").dataset.templateText;
        set.querySelectorAll("[data-parameter]").forEach(function (input) {
          var value = input.value.trim() || "{{" + input.dataset.parameter + "}}";
          text = text.split("{{" + input.dataset.parameter + "}}").join(value);
        });
        preview.textContent = "The handset shows: " + text;
        preview.hidden = false;
      }
      function update() {
        form.querySelectorAll("[data-template-parameters]").forEach(function (set) {
          var shown = set.dataset.templateParameters === select.value;
          set.hidden = !shown;
          set.disabled = !shown;
        });
        own.hidden = Boolean(select.value);
        own.querySelector("textarea").disabled = Boolean(select.value);
        showPreview();
      }
      select.addEventListener("change", function () {
        var option = select.options[select.selectedIndex];
        if (option.dataset.identity && sender) sender.value = option.dataset.identity;
        update();
      });
      form.addEventListener("input", function (event) {
        if (event.target.matches("[data-parameter]")) showPreview();
      });
      form.addEventListener("change", function (event) {
        if (event.target.matches("[data-header-file], [data-header-choice]")) showPreview();
      });
      update();
    });
  }

  // Beside To: contacts found as you type, offered in a datalist; the one picked joins To as
  // "Name <number>". Hidden without this script (To takes numbers typed by hand).
  function setupContactPicker() {
    document.querySelectorAll("[data-contact-picker]").forEach(function (picker) {
      var input = picker.querySelector("input");
      var list = picker.querySelector("datalist");
      var to = picker.closest("form").elements.to;
      var offered = [];
      picker.hidden = false;
      var search = debounce(function (asked) {
        fetch("/compose/contacts?q=" + encodeURIComponent(asked), { credentials: "same-origin", headers: { "Accept": "application/json" } })
          .then(function (r) { return r.ok ? r.json() : { contacts: [] }; })
          .then(function (data) {
            if (input.value !== asked) return;
            offered = data.contacts;
            list.replaceChildren.apply(list, offered.map(function (label) {
              var option = document.createElement("option");
              option.value = label;
              return option;
            }));
          });
      }, 150);
      input.addEventListener("input", function () {
        if (offered.indexOf(input.value) >= 0) {
          to.value = to.value.trim() ? to.value.replace(/[\s,;]*$/, "") + "\n" + input.value : input.value;
          input.value = "";
          offered = [];
          list.replaceChildren();
          return;
        }
        if (input.value.trim()) search(input.value);
      });
    });
  }

  // Regions about things that change without a status event (webhook attempts, an import's
  // progress) are re-read every data-poll ms while the page is visible.
  function setupPolling() {
    document.querySelectorAll("[data-poll]").forEach(function (region) {
      var every = Number(region.dataset.poll) || 2000;
      setInterval(function () {
        if (document.visibilityState !== "visible" || !region.dataset.poll) return;
        // Not while the person is choosing in one of its fields (a select would lose the choice).
        var active = document.activeElement;
        if (active && region.contains(active) && /^(SELECT|INPUT|TEXTAREA)$/.test(active.tagName)) return;
        // A region that says it is finished (an import's report) stops asking.
        if (region.querySelector("[data-done]")) { delete region.dataset.poll; return; }
        refresh(region, 0);
      }, every);
    });
  }

  function setupSelectOnFocus() {
    document.querySelectorAll("[data-select-on-focus]").forEach(function (input) {
      input.addEventListener("focus", function () { input.select(); });
    });
  }

  var setups = [setupTheme, setupNav, setupLive, setupCounter, setupVoicePreview, setupDocumentPreview, setupWhatsAppCompose, setupContactPicker, setupPolling, setupSelectOnFocus];
  function ready(fn) { setups.push(fn); }
  document.addEventListener("DOMContentLoaded", function () { setups.forEach(function (fn) { fn(); }); });

  return { on: on, ready: ready, refresh: refresh, debounce: debounce, postJson: postJson, csrfToken: csrfToken };
})();
