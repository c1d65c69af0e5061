// Allure 3 configuration of the Crucible report.
//
// Use from the repo root:  node_modules/.bin/allure generate --config reports/allurerc.mjs [RESULTS_DIR]
// (`python -m crucible report` / `make report` do that). Allure resolves relative paths against the
// process's working directory, not this file, so every path here is made absolute.
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = (relative) => fileURLToPath(new URL(relative, import.meta.url));

// Which defect a failed or broken result shows is decided by the formatter
// (crucible/formatter.py) and written as the result's "defect" label.
const defect = (value, statuses) => ({ statuses, labels: { defect: `^${value}$` } });

/** @type {import("allure").AllureConfig} */
export default {
  name: "Crucible",
  // Used when no results directory is given on the command line.
  resultsDir: here("./allure-results"),
  // Awesome writes index.html (plus summary.json and test-results.json, which the page does not need).
  output: here("./allure-report"),
  // One JSON line per generated report; feeds the trend, "new failure" and flaky markers.
  // CRUCIBLE_HISTORY moves it (e.g. to a CI cache); keep the file between runs to keep the trend.
  historyPath: process.env.CRUCIBLE_HISTORY ? resolve(process.env.CRUCIBLE_HISTORY) : here("./history/history.jsonl"),
  historyLimit: 50,
  // The first rule that matches a failed or broken result names its category.
  categories: [
    {
      id: "product-defects",
      name: "Product defects",
      matchers: [defect("product", ["failed"]), { statuses: ["failed"] }],
      expand: true,
    },
    {
      id: "environment-problems",
      name: "Environment problems",
      matchers: [defect("environment", ["broken"])],
    },
    {
      id: "test-defects",
      name: "Test defects",
      matchers: [defect("test", ["broken"]), { statuses: ["broken", "unknown"] }],
    },
  ],
  plugins: {
    awesome: {
      options: {
        reportName: "Crucible",
        singleFile: true,
        reportLanguage: "en",
        // The tree: capability (the feature's folder) > feature > scenarios.
        groupBy: ["epic", "feature"],
      },
    },
  },
};
