// An example lab plugin (docs/lab.md, "Plugins"): a nearest-centroid classifier. Its fit returns the engine's
// linear artifact (softmax over -β/2·‖x − μ_c‖², expanded: the ‖x‖² term is the same for every class), so a
// run trained with it predicts, explains and exports to ONNX like a built-in linear model.

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
  ],
};
