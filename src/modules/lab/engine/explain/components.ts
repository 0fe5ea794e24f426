// The explainers as registry components (DashAI's names and types: GlobalExplainer / LocalExplainer), each
// with a zod schema of its parameters (defaults, bounds, English and Spanish strings for the UI's forms).
import { z } from "zod";
import { CLASSIFICATION_METRICS, REGRESSION_METRICS } from "../metrics.js";
import type { Localized } from "../params.js";
import type { Task } from "../types.js";

export type ExplainerType = "GlobalExplainer" | "LocalExplainer";

export interface ExplainerDefinition {
  name: string;
  type: ExplainerType;
  tasks: Task[];
  displayName: Localized;
  description: Localized;
  schema: z.ZodObject;
}

const L = (en: string, es: string): Localized => ({ en, es });
const BOTH: Task[] = ["TabularClassificationTask", "RegressionTask"];

function param<T extends z.ZodType>(
  schema: T,
  fallback: z.input<T>,
  label: Localized,
  description: Localized,
) {
  return (schema as z.ZodType<unknown>).default(fallback as never).meta({
    title: label.en,
    description: description.en,
    display_name: label.en,
    "x-display-name-es": label.es,
    "x-description-es": description.es,
    placeholder: fallback,
  });
}

const seed = param(
  z.number().int().min(0).max(2_147_483_647),
  0,
  L("Random state", "Estado aleatorio"),
  L(
    "Seed of the random draws: the same seed gives the same result.",
    "Semilla de los sorteos: la misma semilla da el mismo resultado.",
  ),
);
const split = param(
  z.enum(["train", "validation", "test"]),
  "test",
  L("Split", "Partición"),
  L(
    "The part of the run's dataset the explanation reads.",
    "La parte del dataset de la ejecución que lee la explicación.",
  ),
);
const maxSamples = (fallback: number) =>
  param(
    z.number().int().min(1).max(100_000),
    fallback,
    L("Max samples", "Máximo de muestras"),
    L(
      "At most this many rows of the split are used (a seeded random sample beyond).",
      "Se usan a lo más estas filas de la partición (una muestra aleatoria con semilla si hay más).",
    ),
  );

export const EXPLAINERS: ExplainerDefinition[] = [
  {
    name: "PermutationFeatureImportance",
    type: "GlobalExplainer",
    tasks: BOTH,
    displayName: L("Permutation Feature Importance", "Importancia de Características por Permutación"),
    description: L(
      "How much the score drops when one input column is shuffled, n_repeats times per column (mean and std). A categorical column's one-hot features are shuffled together.",
      "Cuánto baja la puntuación al barajar una columna de entrada, n_repeats veces por columna (media y desviación). Las características one-hot de una columna categórica se barajan juntas.",
    ),
    schema: z.object({
      scoring: param(
        z.enum([...CLASSIFICATION_METRICS, ...REGRESSION_METRICS]).nullable(),
        null,
        L("Scoring", "Métrica"),
        L(
          "The metric whose drop is measured; empty: the run's goal metric, else Accuracy or R2.",
          "La métrica cuya caída se mide; vacía: la métrica objetivo de la ejecución, si no Accuracy o R2.",
        ),
      ),
      n_repeats: param(
        z.number().int().min(1).max(100),
        20,
        L("N repeats", "N repeticiones"),
        L("How many times each column is shuffled.", "Cuántas veces se baraja cada columna."),
      ),
      random_state: seed,
      max_samples: maxSamples(1000),
      split,
    }),
  },
  {
    name: "PartialDependence",
    type: "GlobalExplainer",
    tasks: BOTH,
    displayName: L("Partial Dependence", "Dependencia Parcial"),
    description: L(
      "The model's average prediction as one input column moves over a grid of values, the other columns kept as they are.",
      "La predicción promedio del modelo cuando una columna de entrada recorre una grilla de valores, con las demás columnas como están.",
    ),
    schema: z.object({
      features: param(
        z.array(z.string().min(1).max(255)).max(100),
        [],
        L("Features", "Características"),
        L(
          "The input columns to plot; empty: every input column.",
          "Las columnas de entrada a graficar; vacío: todas.",
        ),
      ),
      grid_resolution: param(
        z.number().int().min(2).max(200),
        50,
        L("Grid resolution", "Resolución de la grilla"),
        L("Grid points of a numeric column.", "Puntos de la grilla de una columna numérica."),
      ),
      lower_percentile: param(
        z.number().min(0).max(1),
        0.05,
        L("Lower percentile", "Percentil inferior"),
        L("Where a numeric grid starts (0–1).", "Dónde empieza una grilla numérica (0–1)."),
      ),
      upper_percentile: param(
        z.number().min(0).max(1),
        0.95,
        L("Upper percentile", "Percentil superior"),
        L("Where a numeric grid ends (0–1).", "Dónde termina una grilla numérica (0–1)."),
      ),
      max_samples: maxSamples(500),
      random_state: seed,
      split,
    }),
  },
  {
    name: "KernelShap",
    type: "LocalExplainer",
    tasks: BOTH,
    displayName: L("Kernel SHAP", "Kernel SHAP"),
    description: L(
      "SHAP values of each explained row: how much each input column moves the prediction away from the average prediction over a background sample. They add up to the prediction minus the base value.",
      "Valores SHAP de cada fila explicada: cuánto mueve cada columna de entrada la predicción respecto de la predicción promedio sobre una muestra de fondo. Suman la predicción menos el valor base.",
    ),
    schema: z.object({
      n_background_samples: param(
        z.number().int().min(1).max(1000),
        50,
        L("Background samples", "Muestras de fondo"),
        L(
          "Rows of the run's train split the absent columns are drawn from (a seeded sample).",
          "Filas de la partición de entrenamiento de las que se toman las columnas ausentes (muestra con semilla).",
        ),
      ),
      n_samples: param(
        z.number().int().min(2).max(100_000),
        2048,
        L("Coalitions", "Coaliciones"),
        L(
          "Coalitions evaluated per row; with few columns every coalition is (the exact Shapley values).",
          "Coaliciones evaluadas por fila; con pocas columnas se evalúan todas (valores de Shapley exactos).",
        ),
      ),
      max_instances: param(
        z.number().int().min(1).max(100),
        10,
        L("Max rows", "Máximo de filas"),
        L(
          "Rows explained when no rows are chosen: the dataset's first ones.",
          "Filas explicadas cuando no se eligen: las primeras del dataset.",
        ),
      ),
      random_state: seed,
    }),
  },
];

export function findExplainer(name: string, type?: ExplainerType): ExplainerDefinition | undefined {
  return EXPLAINERS.find((e) => e.name === name && (type === undefined || e.type === type));
}
