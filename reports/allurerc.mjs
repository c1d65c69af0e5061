// Allure 3 configuration of the Crucible report.
//
// Use from the repo root:  node_modules/.bin/allure generate --config reports/allurerc.mjs [RESULTS_DIR]
// Allure resolves relative paths against the process's working directory, not
// this file, so every path here is made absolute from this file's location.
import { fileURLToPath } from "node:url";

const here = (relative) => fileURLToPath(new URL(relative, import.meta.url));

/** @type {import("allure").AllureConfig} */
export default {
  name: "Crucible",
  // Used when no results directory is given on the command line.
  resultsDir: here("./allure-results"),
  // Awesome writes index.html (plus summary.json and test-results.json, which the page does not need).
  output: here("./allure-report"),
  // One JSON line per generated report; feeds the trend and history views.
  historyPath: here("./history/history.jsonl"),
  historyLimit: 50,
  plugins: {
    awesome: {
      options: {
        reportName: "Crucible",
        singleFile: true,
        reportLanguage: "en",
      },
    },
  },
};
