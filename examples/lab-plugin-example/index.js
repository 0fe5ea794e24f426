// An example lab plugin (docs/lab.md, "Plugins"), one component of each kind a plugin can export:
// - a model, a nearest-centroid classifier. Its fit returns the engine's linear artifact (softmax over
//   -β/2·‖x − μ_c‖², expanded: the ‖x‖² term is the same for every class), so a run trained with it
//   predicts, explains and exports to ONNX like a built-in linear model;
// - an explorer, MissingValuesPlot: a bar per column of its missing or empty values (count or percent);
// - a converter, Log1pTransformer: log(1 + x) of numeric columns (x ≤ -1 becomes missing).

// Missing: NaN in a numeric column; null or an empty string (an empty CSV cell) in a text one.
const isMissing = (column, i) =>
  column.values instanceof Float64Array
    ? Number.isNaN(column.values[i])
    : column.values[i] === null || column.values[i] === "";

/** @type {import("../../src/modules/lab/plugins/plugin-api.ts").LabPlugin} */
export default {
  components: [
    {
      type: "Model",
      name: "NearestCentroidClassifier",
      task: "TabularClassificationTask",
      displayName: { en: "Nearest centroid (plugin)", es: "Centroide más cercano (plugin)" },
      description: {
        en: "Predicts the class whose mean of the standardized inputs is closest.",
        es: "Predice la clase cuya media de las entradas estandarizadas está más cerca.",
      },
      standardize: true,
      params: {
        sharpness: {
          kind: "float",
          default: 1,
          gt: 0,
          max: 100,
          search: [0.1, 10],
          log: true,
          label: { en: "Sharpness", es: "Nitidez" },
          description: {
            en: "How sharply the probabilities favour the nearest centroid.",
            es: "Cuánto favorecen las probabilidades al centroide más cercano.",
          },
        },
      },
      fit(x, labels, params) {
        const k = labels.classCount;
        const beta = Number(params.sharpness);
        const sums = Array.from({ length: k }, () => new Array(x.cols).fill(0));
        const counts = new Array(k).fill(0);
        for (let i = 0; i < x.rows; i++) {
          const c = labels.y[i];
          counts[c] += 1;
          for (let j = 0; j < x.cols; j++) sums[c][j] += x.data[i * x.cols + j];
        }
        const means = sums.map((row, c) => row.map((v) => (counts[c] > 0 ? v / counts[c] : 0)));
        return {
          type: "linear",
          link: "softmax",
          coefficients: means.map((mu) => mu.map((v) => beta * v)),
          intercepts: means.map((mu) => (-beta / 2) * mu.reduce((s, v) => s + v * v, 0)),
        };
      },
    },
    {
      type: "Explorer",
      name: "MissingValuesPlot",
      displayName: { en: "Missing values (plugin)", es: "Valores faltantes (plugin)" },
      description: {
        en: "How many values each column is missing.",
        es: "Cuántos valores le faltan a cada columna.",
      },
      accepts: "any",
      minColumns: 1,
      maxColumns: 100,
      rows: "stats",
      params: {
        percent: {
          kind: "bool",
          default: false,
          label: { en: "As percent", es: "En porcentaje" },
          description: {
            en: "Show the share of rows instead of the count.",
            es: "Mostrar la proporción de filas en vez de la cuenta.",
          },
        },
      },
      compute(table, params, note) {
        const counts = table.columns.map((column) => {
          let missing = 0;
          for (let i = 0; i < table.rowCount; i++) if (isMissing(column, i)) missing++;
          return params.percent ? (100 * missing) / Math.max(1, table.rowCount) : missing;
        });
        const title = `Missing values${note ? ` (${note})` : ""}`;
        return [
          {
            data: [{ type: "bar", x: table.columns.map((c) => c.name), y: counts, text: counts.map(String) }],
            layout: {
              title: { text: title },
              yaxis: { title: { text: params.percent ? "% of rows" : "rows" } },
            },
          },
        ];
      },
    },
    {
      type: "Converter",
      name: "Log1pTransformer",
      displayName: { en: "log(1 + x) (plugin)", es: "log(1 + x) (plugin)" },
      description: {
        en: "Replaces numeric values by log(1 + x); values ≤ -1 become missing.",
        es: "Reemplaza los valores numéricos por log(1 + x); los valores ≤ -1 quedan faltantes.",
      },
      accepts: "numeric",
      params: {},
      apply(table, columns) {
        const chosen = new Set(columns);
        return {
          table: {
            rowCount: table.rowCount,
            columns: table.columns.map((column) =>
              chosen.has(column.name)
                ? {
                    name: column.name,
                    type: "float",
                    values: column.values.map((v) => (v > -1 ? Math.log1p(v) : Number.NaN)),
                  }
                : column,
            ),
          },
          info: { transformed: columns },
        };
      },
    },
  ],
};
