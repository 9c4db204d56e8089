// Sharebox owner UI: upload progress and drag-and-drop, copy buttons, the browser's time zone.
// Every form works without this file; it only makes them nicer.
(function () {
  "use strict";

  // A size as the pages write it (web::size_label): bytes, then 1024-based KiB, MiB, GiB, TiB.
  var sizeLabel = function (bytes) {
    if (bytes === 1) { return "1 byte"; }
    if (bytes < 1024) { return bytes + " bytes"; }
    var units = ["KiB", "MiB", "GiB", "TiB"];
    var unit = 0;
    var div = 1024;
    var tenths = function (d) { return Math.round((bytes / d) * 10) / 10; };
    while (unit + 1 < units.length && tenths(div) >= 1024) { unit += 1; div *= 1024; }
    return String(tenths(div)) + " " + units[unit];
  };

  // Uploads: one XHR per file so each gets its own progress bar. A file over the server's limit
  // is refused here, before a byte is sent; a refusal from the server is shown as it says it.
  // The library reloads to list the new files only when every upload of the batch worked, so
  // no message is reloaded away.
  var form = document.getElementById("upload");
  if (form && window.XMLHttpRequest && window.FormData) {
    var input = document.getElementById("files");
    var list = document.getElementById("progress");
    var upload = function (files) {
      var pending = files.length;
      var failed = 0;
      var maxBytes = Number(form.dataset.maxBytes);
      var maxLabel = form.dataset.maxLabel || sizeLabel(maxBytes);
      var finish = function (ok, li, pct, msg) {
        li.className = ok ? "done" : "failed";
        if (!ok) { failed += 1; pct.textContent = msg; pct.setAttribute("role", "alert"); }
        pending -= 1;
        if (pending > 0) { return; }
        if (failed === 0) {
          setTimeout(function () { window.location.reload(); }, 400);
        } else if (failed < files.length) {
          var note = document.createElement("li");
          var again = document.createElement("a");
          again.href = window.location.href;
          again.textContent = "Show the files that were uploaded";
          note.appendChild(again);
          list.appendChild(note);
        }
      };
      Array.prototype.forEach.call(files, function (file) {
        var li = document.createElement("li");
        var name = document.createElement("span");
        name.textContent = file.name;
        var bar = document.createElement("progress");
        bar.max = 100;
        bar.value = 0;
        bar.setAttribute("aria-label", "Upload of " + file.name);
        var pct = document.createElement("span");
        pct.className = "pct";
        pct.textContent = "0%";
        li.appendChild(name);
        li.appendChild(bar);
        li.appendChild(pct);
        list.appendChild(li);
        if (maxBytes > 0 && file.size > maxBytes) {
          finish(false, li, pct, "Not sent: this file is " + sizeLabel(file.size) +
            ", over the limit of " + maxLabel + " per file.");
          return;
        }
        var xhr = new XMLHttpRequest();
        xhr.open("POST", "/app/upload?folder_uuid=" + encodeURIComponent(form.dataset.folder));
        xhr.setRequestHeader("X-CSRF-Token", form.dataset.csrf);
        xhr.upload.onprogress = function (e) {
          if (e.lengthComputable) {
            var p = Math.round((e.loaded / e.total) * 100);
            bar.value = p;
            pct.textContent = p + "%";
          }
        };
        xhr.onload = function () {
          if (xhr.status === 200) {
            bar.value = 100;
            pct.textContent = "100%";
            finish(true, li, pct, "");
          } else {
            var msg = "The upload failed (" + xhr.status + ").";
            try { msg = JSON.parse(xhr.responseText).msg || msg; } catch (e) { /* not JSON */ }
            finish(false, li, pct, msg);
          }
        };
        xhr.onerror = function () {
          finish(false, li, pct, "The upload was cut off: check the connection and try again.");
        };
        var data = new FormData();
        data.append("file", file, file.name);
        xhr.send(data);
      });
    };
    form.addEventListener("submit", function (e) {
      if (!input.files.length) { return; }
      e.preventDefault();
      upload(input.files);
    });
    ["dragenter", "dragover"].forEach(function (t) {
      form.addEventListener(t, function (e) { e.preventDefault(); form.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (t) {
      form.addEventListener(t, function (e) { e.preventDefault(); form.classList.remove("over"); });
    });
    form.addEventListener("drop", function (e) {
      if (e.dataTransfer && e.dataTransfer.files.length) { upload(e.dataTransfer.files); }
    });
  }

  // Copy a share link.
  Array.prototype.forEach.call(document.querySelectorAll("button.copy"), function (b) {
    b.addEventListener("click", function () {
      var text = b.dataset.copy;
      var done = function () { b.textContent = "Copied"; setTimeout(function () { b.textContent = "Copy"; }, 1500); };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(done, function () {});
      } else {
        var field = b.parentNode.querySelector("input");
        if (field) { field.select(); document.execCommand("copy"); done(); }
      }
    });
  });

  // A zone not chosen yet defaults to the browser's.
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
  Array.prototype.forEach.call(document.querySelectorAll("select.zone"), function (s) {
    if (!s.dataset.value && zone) {
      for (var i = 0; i < s.options.length; i++) {
        if (s.options[i].value === zone) { s.selectedIndex = i; break; }
      }
    }
  });
})();
