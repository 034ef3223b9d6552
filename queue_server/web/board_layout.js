/* 便民 Bianmin hall board layout: whole rows only, paging, text that fits, the notice zone.
 *
 * Loaded before board.js, which calls it from its rendering; nothing here talks to the server.
 *
 * - fitList(list, selector): a list shows whole rows only. Rows that do not fit entirely inside the
 *   list's box (at its bottom or right edge) are removed, so nothing is ever cut in half.
 * - Pager(zone, grid, pagerLabel, pageMs): a grid of cards (windows, queues) laid out in cells whose
 *   size the CSS gives (`--cell-w` minimum width, `--cell-h` height, read from a hidden probe). As many
 *   columns as fit; rows up to the zone's `--rows-max` (a landscape board sets the zone's `--rows` and
 *   its height follows) or as many as fit its height (a portrait board). When the cards do not all fit,
 *   they are shown page by page, `pageMs` each, evenly spread over the pages, with "1/3" in the zone's
 *   head; a page never shows a card cut.
 * - fitText(node, minPx): shrinks a block's text until it fits its box (English names wrap, then shrink;
 *   they are never cut with "…"), never below minPx.
 * - NoticeZone: the hall's announcements and 办事八公开 of featured items, one slide after another.
 */
(function () {
  "use strict";

  /** Remove the rows (matching selector) that do not lie wholly inside list; returns how many stay. */
  function fitList(list, selector) {
    const box = list.getBoundingClientRect();
    const rows = Array.from(list.querySelectorAll(selector));
    let kept = rows.length;
    for (let i = rows.length - 1; i >= 0; i -= 1) {
      const r = rows[i].getBoundingClientRect();
      if (r.bottom <= box.bottom + 0.5 && r.right <= box.right + 0.5) break;
      rows[i].remove();
      kept -= 1;
    }
    return kept;
  }

  /** Shrink node's font until its text fits the node's box, down to minPx at most. */
  function fitText(node, minPx) {
    node.style.fontSize = "";
    let size = parseFloat(getComputedStyle(node).fontSize);
    const overflows = () => node.scrollHeight > node.clientHeight + 1 || node.scrollWidth > node.clientWidth + 1;
    while (overflows() && size > minPx) {
      size = Math.max(minPx, size * 0.92);
      node.style.fontSize = `${size}px`;
    }
    return !overflows();
  }

  function rem() {
    return parseFloat(getComputedStyle(document.documentElement).fontSize);
  }

  function px(value) {
    const n = parseFloat(value);
    return Number.isFinite(n) ? n : 0;
  }

  class Pager {
    constructor(zone, grid, label, pageMs) {
      this.zone = zone;
      this.grid = grid;
      this.label = label;
      this.pageMs = pageMs;
      this.nodes = [];
      this.page = 0;
      this.pages = 1;
      this.perPage = 0;
      this.columns = 1;
      this.rows = 1;
      this.turns = 0; // pages turned, in all (for tests and diagnostics)
      this.timer = setInterval(() => this.turn(), pageMs);
      this.probe = window.BianminPage.el("div", { class: "cell-probe", "aria-hidden": "true" });
      zone.append(this.probe);
    }

    /** Lay out the cards (all of them, in order) and show the current page. */
    show(nodes) {
      this.nodes = nodes;
      const cell = this.probe.getBoundingClientRect();
      const style = getComputedStyle(this.grid);
      const gapX = px(style.columnGap);
      const gapY = px(style.rowGap);
      // Fractional sizes, and half a pixel of slack: a zone made exactly two rows high holds two rows.
      const width = this.grid.getBoundingClientRect().width;
      this.columns = Math.max(1, Math.floor((width + gapX + 0.5) / (cell.width + gapX)));
      const rowsMax = Math.max(1, parseInt(getComputedStyle(this.zone).getPropertyValue("--rows-max"), 10) || 1);
      const wanted = Math.max(1, Math.min(rowsMax, Math.ceil(nodes.length / this.columns)));
      this.zone.style.setProperty("--rows", String(wanted));
      const height = this.grid.getBoundingClientRect().height; // after --rows: a landscape zone's height follows it
      const fit = Math.max(1, Math.floor((height + gapY + 0.5) / (cell.height + gapY)));
      this.rows = Math.min(fit, Math.max(1, Math.ceil(nodes.length / this.columns)));
      const capacity = this.columns * fit;
      this.pages = Math.max(1, Math.ceil(nodes.length / capacity));
      this.perPage = capacity;
      this.grid.style.gridTemplateColumns = `repeat(${this.columns}, minmax(0, 1fr))`;
      this.grid.style.gridAutoRows = `${cell.height}px`;
      if (this.page >= this.pages) this.page = 0;
      this.render();
    }

    turn() {
      if (this.pages <= 1) return;
      this.page = (this.page + 1) % this.pages;
      this.turns += 1;
      this.render();
    }

    render() {
      // Pages evenly filled (60 cards on 8 pages: 8 or 7 each, not seven of 8 and one of 4).
      const bound = (page) => Math.round((page * this.nodes.length) / this.pages);
      this.grid.replaceChildren(...this.nodes.slice(bound(this.page), bound(this.page + 1)));
      this.grid.dataset.page = String(this.page + 1);
      this.grid.dataset.pages = String(this.pages);
      this.label.hidden = this.pages <= 1;
      this.label.textContent = `${this.page + 1}/${this.pages}`;
      this.label.setAttribute("aria-label", `第 ${this.page + 1} 页，共 ${this.pages} 页 · Page ${this.page + 1} of ${this.pages}`);
      this.afterRender();
    }

    afterRender() {}
  }

  /** The notice zone: each slide (an announcement, or some of an item's eight facts) in turn.
   * A slide of facts too long for the zone, even in smaller type, goes on over as many turns as it needs
   * (from the first line not shown): no line is cut in half, none is left out. */
  class NoticeZone {
    constructor(root, notice, el) {
      this.root = root;
      this.slides = notice.slides;
      this.el = el;
      this.index = 0;
      this.from = 0; // the first line of the slide shown (a long slide goes on over several turns)
      this.more = null; // where the slide goes on at the next turn, or null: the next slide
      this.title = root.querySelector("#notice-title");
      this.body = root.querySelector("#notice-body");
      this.label = root.querySelector("#notice-pager");
      root.hidden = false;
      document.body.classList.add("has-notice");
      setInterval(() => this.next(), notice.seconds * 1000);
    }

    next() {
      if (this.more !== null) {
        this.from = this.more;
      } else {
        this.index = (this.index + 1) % this.slides.length;
        this.from = 0;
      }
      this.render();
    }

    render() {
      const el = this.el;
      const slide = this.slides[this.index];
      this.root.dataset.slide = String(this.index + 1);
      this.root.dataset.kind = slide.kind;
      this.more = null;
      if (slide.kind === "item") {
        this.title.replaceChildren(el("span", "zh", `办事八公开 · ${slide.name_zh}`), " ", el("span", "en", slide.name_en));
        const lines = [];
        slide.facts.forEach((fact, f) => {
          fact.lines.forEach((text) => lines.push({ f, text, en: false }));
          if (fact.en) lines.push({ f, text: fact.en, en: true });
        });
        const boxes = new Map();
        for (const line of lines.slice(this.from)) {
          if (!boxes.has(line.f)) {
            const fact = slide.facts[line.f];
            const box = el("div", "fact");
            const label = el("div", "fact-label");
            label.append(el("span", "zh", fact.label_zh), " ", el("span", "en", fact.label_en));
            box.append(label);
            boxes.set(line.f, box);
          }
          boxes.get(line.f).append(el("div", line.en ? "fact-line en" : "fact-line", line.text));
        }
        this.body.replaceChildren(...boxes.values());
        const shown = this.fit();
        if (this.from + shown < lines.length) this.more = this.from + Math.max(1, shown);
      } else {
        this.title.replaceChildren(el("span", "zh", "大厅公告"), " ", el("span", "en", "Notices"));
        const parts = [el("p", "notice-zh", slide.zh)];
        if (slide.en) parts.push(el("p", "notice-en en", slide.en));
        this.body.replaceChildren(...parts);
        this.fit();
      }
      this.label.hidden = this.slides.length <= 1;
      this.label.textContent = `${this.index + 1}/${this.slides.length}`;
    }

    /** Smaller type first, then whole lines left for the next turn; returns how many fact lines are shown. */
    fit() {
      const body = this.body;
      fitText(body, 1.1 * rem());
      if (body.scrollHeight > body.clientHeight + 1 || body.scrollWidth > body.clientWidth + 1) {
        fitList(body, ".fact-label, .fact-line, .notice-zh, .notice-en");
        body.querySelectorAll(".fact").forEach((fact) => {
          if (!fact.querySelector(".fact-line")) fact.remove(); // a label whose lines go on at the next turn
        });
      }
      return body.querySelectorAll(".fact-line").length;
    }
  }

  window.bianminLayout = { fitList, fitText, rem, Pager, NoticeZone };
})();
