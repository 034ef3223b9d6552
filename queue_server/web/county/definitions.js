/* The figures' definitions (口径), one for every page that shows them: the manager's, the county's, the city's.
 * 办结率 and 按时办结率 count cases (办件, queue_server/reports/cases.py); the other figures count visits (tickets).
 * Each page sets a figure's definition as its tooltip (title) and lists them in a legend (口径说明). */
(() => {
  "use strict";

  const DEFINITIONS = {
    cases: ["受理件数：本期受理的办件（含即办件、退回件）", "cases: cases opened in the period (on-the-spot and returned ones included)"],
    completed: ["办结件数：本期办结的办件（无论何时受理）", "completed: cases completed in the period, whenever opened"],
    completion_rate: ["办结率 = 本期办结件数 ÷ 本期受理件数（按办件计，非按取号）", "completion rate = cases completed ÷ cases opened in the period (cases, not tickets)"],
    on_time_rate: ["按时办结率 = 在承诺期限内办结的件数 ÷ 办结件数（含延期后的期限）", "on-time rate = cases completed by their due date (after any extension) ÷ cases completed"],
    served: ["服务人次：完成办结登记的取号（每次来访一次）", "visits served: tickets finished with a case class (one per visit)"],
    acceptance_rate: ["受理率 = 受理的来访 ÷ 服务人次（补办、退回不计）；按来访计，不是办结率", "visits accepted ÷ visits served (补办 and 退回 not accepted); a share of visits, not the completion rate"],
    by_agent: ["委托代办：以代理件办结登记的来访", "by agent: visits finished as 代理件"],
    satisfaction_rate: ["满意率 = 基本满意及以上的评价 ÷ 评价数", "satisfaction = ratings of 基本满意 or better ÷ ratings"],
  };

  function define(key) {
    const found = DEFINITIONS[key];
    return found ? `${found[0]}\n${found[1]}` : "";
  }

  /** A legend of the given figures: 口径说明 Definitions, Chinese first. */
  function legend(keys) {
    const { el } = window.BianminPage;
    const terms = keys.flatMap((key) => {
      const [zh, en] = DEFINITIONS[key];
      return [el("dt", { text: zh, dataset: { define: key } }), el("dd", { class: "en", text: en })];
    });
    return el(
      "details",
      { class: "legend", dataset: { legend: "figures" } },
      el("summary", { text: "口径说明 Definitions" }),
      el("dl", {}, ...terms),
    );
  }

  /** Every element under `root` with data-figure (or data-define) of a defined figure gets its definition as a tooltip. */
  function explain(root) {
    for (const node of root.querySelectorAll("[data-figure], [data-define]")) {
      const key = node.dataset.define || node.dataset.figure;
      if (DEFINITIONS[key] && !node.title) node.title = define(key);
    }
  }

  window.BianminDefinitions = { DEFINITIONS, define, legend, explain };
})();
