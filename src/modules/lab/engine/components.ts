// The engine's components (models, metrics, optimizers) as the component registry lists them
// (GET /api/v1/component/): DashAI's names, the task each fits, English and Spanish strings, and a zod
// schema of the parameters (the registry turns it into JSON Schema for the UI's forms).
import { z } from "zod";
import { EngineError } from "./errors.js";
import { EXPLAINERS } from "./explain/components.js";
import { CLASSIFICATION_METRICS, type MetricName, metricMaximize, REGRESSION_METRICS } from "./metrics.js";
import { MODELS } from "./models.js";
import { type Localized, paramsSchema, type ParamSpecs } from "./params.js";
import type { Task } from "./types.js";

export type ComponentType = "Model" | "Metric" | "Optimizer" | "GlobalExplainer" | "LocalExplainer";

export interface ComponentDefinition {
  name: string;
  type: ComponentType;
  /** The tasks the component works with (DashAI's `compatible_components`). */
  tasks: Task[];
  displayName: Localized;
  description: Localized;
  schema: z.ZodObject;
  /** Metrics: whether a larger value is better. */
  maximize?: boolean;
}

const L = (en: string, es: string): Localized => ({ en, es });
const BOTH: Task[] = ["TabularClassificationTask", "RegressionTask"];

const METRIC_TEXT: Record<MetricName, { displayName: Localized; description: Localized }> = {
  Accuracy: {
    displayName: L("Accuracy", "Exactitud"),
    description: L(
      "Share of rows whose predicted class is the true class.",
      "Proporción de filas cuya clase predicha es la verdadera.",
    ),
  },
  F1: {
    displayName: L("F1", "F1"),
    description: L(
      "Harmonic mean of precision and recall (positive class for two classes, macro average for more).",
      "Media armónica de precisión y exhaustividad (clase positiva con dos clases, promedio macro con más).",
    ),
  },
  Precision: {
    displayName: L("Precision", "Precisión"),
    description: L(
      "Share of predicted positives that are positive (macro average over classes for more than two).",
      "Proporción de positivos predichos que son positivos (promedio macro con más de dos clases).",
    ),
  },
  Recall: {
    displayName: L("Recall", "Exhaustividad"),
    description: L(
      "Share of positives that are predicted positive (macro average over classes for more than two).",
      "Proporción de positivos predichos como positivos (promedio macro con más de dos clases).",
    ),
  },
  ROCAUC: {
    displayName: L("ROC AUC", "ROC AUC"),
    description: L(
      "Area under the ROC curve of the predicted probabilities (one-vs-rest macro average for more than two classes).",
      "Área bajo la curva ROC de las probabilidades predichas (promedio macro uno contra el resto con más de dos clases).",
    ),
  },
  LogLoss: {
    displayName: L("Log Loss", "Pérdida logarítmica"),
    description: L(
      "Mean negative log-likelihood of the true class (lower is better).",
      "Log-verosimilitud negativa media de la clase verdadera (menor es mejor).",
    ),
  },
  MatthewsCorrCoef: {
    displayName: L("Matthews Correlation Coefficient", "Coeficiente de Correlación de Matthews"),
    description: L(
      "Correlation between predicted and true labels, in [-1, 1], reliable with imbalanced classes.",
      "Correlación entre etiquetas predichas y verdaderas, en [-1, 1], fiable con clases desbalanceadas.",
    ),
  },
  CohenKappa: {
    displayName: L("Cohen's Kappa", "Kappa de Cohen"),
    description: L(
      "Agreement between predicted and true labels beyond chance.",
      "Acuerdo entre etiquetas predichas y verdaderas más allá del azar.",
    ),
  },
  MAE: {
    displayName: L("Mean Absolute Error", "Error Absoluto Medio"),
    description: L(
      "Mean of |true − predicted| (lower is better).",
      "Media de |verdadero − predicho| (menor es mejor).",
    ),
  },
  MSE: {
    displayName: L("Mean Squared Error", "Error Cuadrático Medio"),
    description: L(
      "Mean of (true − predicted)² (lower is better).",
      "Media de (verdadero − predicho)² (menor es mejor).",
    ),
  },
  RMSE: {
    displayName: L("Root Mean Squared Error", "Raíz del Error Cuadrático Medio"),
    description: L(
      "Square root of the MSE, in the target's units (lower is better).",
      "Raíz cuadrada del MSE, en las unidades del objetivo (menor es mejor).",
    ),
  },
  R2: {
    displayName: L("R²", "R²"),
    description: L(
      "Coefficient of determination: 1 − residual variance / target variance.",
      "Coeficiente de determinación: 1 − varianza residual / varianza del objetivo.",
    ),
  },
};

/** The optimizers: DashAI's names; `sampler` picks TPE or random search. */
export const OPTIMIZER_PARAMS: Record<string, ParamSpecs> = {
  OptunaOptimizer: {
    n_trials: {
      kind: "int",
      default: 10,
      min: 1,
      max: 1000,
      label: L("N trials", "N pruebas"),
      description: L("The number of trials of the study.", "La cantidad de pruebas del estudio."),
    },
    sampler: {
      kind: "enum",
      default: "TPESampler",
      options: ["TPESampler", "RandomSampler"],
      label: L("Sampler", "Muestreador"),
      description: L(
        "How the next trial's parameters are chosen: a Tree-structured Parzen Estimator, or at random.",
        "Cómo se eligen los parámetros de la siguiente prueba: un estimador de Parzen estructurado en árbol, o al azar.",
      ),
    },
  },
  HyperOptOptimizer: {
    n_trials: {
      kind: "int",
      default: 10,
      min: 1,
      max: 1000,
      label: L("N trials", "N pruebas"),
      description: L("The number of trials.", "La cantidad de pruebas."),
    },
    sampler: {
      kind: "enum",
      default: "tpe",
      options: ["tpe", "rand"],
      label: L("Sampler", "Muestreador"),
      description: L(
        "tpe (Tree-structured Parzen Estimator) or rand (random search).",
        "tpe (estimador de Parzen estructurado en árbol) o rand (búsqueda aleatoria).",
      ),
    },
  },
};

const OPTIMIZER_TEXT: Record<string, { displayName: Localized; description: Localized }> = {
  OptunaOptimizer: {
    displayName: L("Optuna Optimizer", "Optimizador Optuna"),
    description: L(
      "Hyperparameter optimization with Optuna's samplers (TPE or random), reimplemented in the engine.",
      "Optimización de hiperparámetros con los muestreadores de Optuna (TPE o aleatorio), reimplementados en el motor.",
    ),
  },
  HyperOptOptimizer: {
    displayName: L("HyperOpt Optimizer", "Optimizador HyperOpt"),
    description: L(
      "Hyperparameter optimization with hyperopt's algorithms (tpe or rand), reimplemented in the engine.",
      "Optimización de hiperparámetros con los algoritmos de hyperopt (tpe o rand), reimplementados en el motor.",
    ),
  },
};

export const COMPONENTS: ComponentDefinition[] = [
  ...MODELS.map((model): ComponentDefinition => ({
    name: model.name,
    type: "Model",
    tasks: [model.task],
    displayName: model.displayName,
    description: model.description,
    schema: paramsSchema(model.params),
  })),
  ...[...CLASSIFICATION_METRICS, ...REGRESSION_METRICS].map((name): ComponentDefinition => ({
    name,
    type: "Metric",
    tasks: (CLASSIFICATION_METRICS as string[]).includes(name)
      ? ["TabularClassificationTask"]
      : ["RegressionTask"],
    displayName: METRIC_TEXT[name].displayName,
    description: METRIC_TEXT[name].description,
    schema: z.object({}),
    maximize: metricMaximize(name),
  })),
  ...Object.entries(OPTIMIZER_PARAMS).map(([name, params]): ComponentDefinition => ({
    name,
    type: "Optimizer",
    tasks: BOTH,
    displayName: OPTIMIZER_TEXT[name]!.displayName,
    description: OPTIMIZER_TEXT[name]!.description,
    schema: paramsSchema(params),
  })),
  ...EXPLAINERS.map((e): ComponentDefinition => ({ ...e })),
];

export function findComponent(name: string, type?: ComponentType): ComponentDefinition {
  const found = COMPONENTS.find((c) => c.name === name && (type === undefined || c.type === type));
  if (!found)
    throw new EngineError("unknown_component", `Unknown ${type?.toLowerCase() ?? "component"} "${name}"`);
  return found;
}
