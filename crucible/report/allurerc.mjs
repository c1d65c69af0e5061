// Allure 3 configuration of the Crucible report, shipped with the harness.
//
// `crucible report` runs `allure generate --config <this file> RESULTS_DIR` with the project's paths in
// the environment (CRUCIBLE_REPORT_RESULTS, _OUTPUT, _HISTORY, _NAME, all absolute).
const env = process.env;

// Which defect a failed or broken result shows is decided by the formatter
// (crucible/report/formatter.py) and written as the result's "defect" label.
const defect = (value, statuses) => ({ statuses, labels: { defect: `^${value}$` } });

/** @type {import("allure").AllureConfig} */
export default {
  name: env.CRUCIBLE_REPORT_NAME || "Crucible",
  resultsDir: env.CRUCIBLE_REPORT_RESULTS || "./allure-results",
  // Awesome writes index.html (plus summary.json and test-results.json, which the page does not need).
  output: env.CRUCIBLE_REPORT_OUTPUT || "./allure-report",
  // One JSON line per generated report; feeds the trend, "new failure" and flaky markers.
  // The setting report.history moves it (e.g. to a CI cache); keep the file between runs.
  ...(env.CRUCIBLE_REPORT_HISTORY ? { historyPath: env.CRUCIBLE_REPORT_HISTORY } : {}),
  historyLimit: 50,
  // The first rule that matches a failed or broken result names its category.
  categories: [
    {
      // A service broke its OpenAPI document or a consumer's pact (crucible.errors.ContractViolation).
      id: "contract-violations",
      name: "Contract violations",
      matchers: [defect("contract", ["failed"])],
      expand: true,
    },
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
        reportName: env.CRUCIBLE_REPORT_NAME || "Crucible",
        singleFile: true,
        reportLanguage: "en",
        // The tree: capability (the feature's folder) > feature > scenarios.
        groupBy: ["epic", "feature"],
      },
    },
  },
};
