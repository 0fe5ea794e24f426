// The models the lab trains, under DashAI's component names and scikit-learn's parameter names and
// defaults. Each declares its parameters (params.ts), whether its inputs are standardized, and how it fits.
import { fitBoosting, fitForest, type Labels } from "./ensembles.js";
import { EngineError } from "./errors.js";
import { type FitContext, fitElasticNet, fitLogistic, fitRidge } from "./linear.js";
import { featureCount, type Localized, type ParamSpec, type ParamSpecs } from "./params.js";
import type { Matrix } from "./preprocess.js";
import { type DummyStrategy, fitDummy, fitKnn, fitNaiveBayes } from "./simple-models.js";
import type { TreeOptions } from "./tree.js";
import type { ModelArtifact, Task } from "./types.js";

export interface ModelDefinition {
  name: string;
  task: Task;
  displayName: Localized;
  description: Localized;
  params: ParamSpecs;
  /** z-scale numeric inputs (linear models, k-NN); trees and naive Bayes read raw values. */
  standardize: boolean;
  /** "own code" or the library that fits it (docs). */
  implementation: string;
  fit(
    x: Matrix,
    labels: Labels,
    params: Record<string, unknown>,
    seed: number,
    ctx: FitContext,
  ): ModelArtifact;
}

const L = (en: string, es: string): Localized => ({ en, es });

// Shared parameter declarations.
const randomState: ParamSpec = {
  kind: "int",
  default: null,
  nullable: true,
  min: 0,
  label: L("Random state", "Estado aleatorio"),
  description: L(
    "Seed of the random generator; empty uses the run's seed.",
    "Semilla del generador aleatorio; vacío usa la semilla de la ejecución.",
  ),
};
const fitIntercept: ParamSpec = {
  kind: "bool",
  default: true,
  label: L("Fit intercept", "Ajustar intercepto"),
  description: L("Whether to fit an intercept term.", "Si se ajusta un término de intercepto."),
};
const maxDepth = (fallback: number | null, search: [number, number]): ParamSpec => ({
  kind: "int",
  default: fallback,
  nullable: true,
  min: 1,
  search,
  label: L("Max depth", "Profundidad máxima"),
  description: L(
    "Maximum depth of a tree; empty grows until leaves are pure.",
    "Profundidad máxima de un árbol; vacío crece hasta hojas puras.",
  ),
});
const minSamplesSplit: ParamSpec = {
  kind: "int",
  default: 2,
  min: 2,
  search: [2, 20],
  label: L("Min samples split", "Mínimo de muestras para dividir"),
  description: L(
    "Minimum rows a node needs to be split.",
    "Mínimo de filas que un nodo necesita para dividirse.",
  ),
};
const minSamplesLeaf: ParamSpec = {
  kind: "int",
  default: 1,
  min: 1,
  search: [1, 20],
  label: L("Min samples leaf", "Mínimo de muestras por hoja"),
  description: L("Minimum rows in each leaf.", "Mínimo de filas en cada hoja."),
};
const maxLeafNodes: ParamSpec = {
  kind: "int",
  default: null,
  nullable: true,
  min: 2,
  label: L("Max leaf nodes", "Máximo de hojas"),
  description: L(
    "Grow best-first up to this many leaves; empty: unlimited.",
    "Crece primero lo mejor hasta este número de hojas; vacío: sin límite.",
  ),
};
const maxFeatures = (fallback: string | number | null): ParamSpec => ({
  kind: "features",
  default: fallback,
  label: L("Max features", "Máximo de atributos"),
  description: L(
    'Features drawn at each split: "sqrt", "log2", a fraction in (0, 1], a count above 1, or empty for all.',
    'Atributos considerados en cada división: "sqrt", "log2", una fracción en (0, 1], un número mayor que 1, o vacío para todos.',
  ),
});
const nEstimators = (search: [number, number]): ParamSpec => ({
  kind: "int",
  default: 100,
  min: 1,
  max: 5000,
  search,
  label: L("N estimators", "N estimadores"),
  description: L("Number of trees.", "Número de árboles."),
});
const classCriterion: ParamSpec = {
  kind: "enum",
  default: "gini",
  options: ["gini", "entropy", "log_loss"],
  searchable: true,
  label: L("Criterion", "Criterio"),
  description: L("Split quality measure.", "Medida de calidad de una división."),
};
const regCriterion: ParamSpec = {
  kind: "enum",
  default: "squared_error",
  options: ["squared_error"],
  label: L("Criterion", "Criterio"),
  description: L(
    "Split quality measure (variance reduction).",
    "Medida de calidad de una división (reducción de varianza).",
  ),
};
const bootstrap = (fallback: boolean): ParamSpec => ({
  kind: "bool",
  default: fallback,
  searchable: true,
  label: L("Bootstrap", "Bootstrap"),
  description: L(
    "Train each tree on a bootstrap sample of the rows.",
    "Entrena cada árbol con una muestra bootstrap de las filas.",
  ),
});

function treeOptions(
  params: Record<string, unknown>,
  p: number,
  splitter: "best" | "random",
  regression: boolean,
): TreeOptions {
  const criterion = regression
    ? "squared_error"
    : params.criterion === "gini" || params.criterion === undefined
      ? "gini"
      : "entropy";
  return {
    maxDepth: (params.max_depth as number | null) ?? Infinity,
    minSamplesSplit: (params.min_samples_split as number) ?? 2,
    minSamplesLeaf: (params.min_samples_leaf as number) ?? 1,
    maxLeafNodes: (params.max_leaf_nodes as number | null) ?? null,
    maxFeatures: featureCount(params.max_features, p),
    criterion,
    splitter,
  };
}

function seedOf(params: Record<string, unknown>, seed: number): number {
  return typeof params.random_state === "number" ? params.random_state : seed;
}

function classes(labels: Labels): number {
  if (labels.kind !== "classification")
    throw new EngineError("invalid_input", "This model needs a classification target");
  return labels.classCount;
}

const treeParams = (classification: boolean, features: string | number | null): ParamSpecs => ({
  criterion: classification ? classCriterion : regCriterion,
  max_depth: maxDepth(null, [1, 32]),
  min_samples_split: minSamplesSplit,
  min_samples_leaf: minSamplesLeaf,
  max_features: maxFeatures(features),
  max_leaf_nodes: maxLeafNodes,
  random_state: randomState,
});

function forestModel(
  name: string,
  task: Task,
  displayName: Localized,
  description: Localized,
  kind: "tree" | "forest" | "extra",
): ModelDefinition {
  const classification = task === "TabularClassificationTask";
  const base = treeParams(classification, kind === "tree" ? null : classification ? "sqrt" : 1.0);
  const params: ParamSpecs =
    kind === "tree"
      ? base
      : { n_estimators: nEstimators([10, 500]), ...base, bootstrap: bootstrap(kind === "forest") };
  return {
    name,
    task,
    displayName,
    description,
    params,
    standardize: false,
    implementation: "own code (binned histogram trees)",
    fit: (x, labels, p, seed, ctx) =>
      fitForest(
        x,
        labels,
        {
          nEstimators: kind === "tree" ? 1 : (p.n_estimators as number),
          bootstrap: kind === "tree" ? false : (p.bootstrap as boolean),
          tree: treeOptions(p, x.cols, kind === "extra" ? "random" : "best", !classification),
          seed: seedOf(p, seed),
        },
        ctx,
      ),
  };
}

function boostingModel(
  name: string,
  task: Task,
  displayName: Localized,
  description: Localized,
): ModelDefinition {
  const classification = task === "TabularClassificationTask";
  return {
    name,
    task,
    displayName,
    description,
    params: {
      loss: classification
        ? {
            kind: "enum",
            default: "log_loss",
            options: ["log_loss"],
            label: L("Loss", "Pérdida"),
            description: L("Loss to optimize.", "Pérdida a optimizar."),
          }
        : {
            kind: "enum",
            default: "squared_error",
            options: ["squared_error"],
            label: L("Loss", "Pérdida"),
            description: L("Loss to optimize.", "Pérdida a optimizar."),
          },
      learning_rate: {
        kind: "float",
        default: 0.1,
        gt: 0,
        search: [0.01, 1],
        log: true,
        label: L("Learning rate", "Tasa de aprendizaje"),
        description: L("Shrinks the contribution of each tree.", "Reduce la contribución de cada árbol."),
      },
      n_estimators: nEstimators([10, 500]),
      subsample: {
        kind: "float",
        default: 1,
        gt: 0,
        max: 1,
        search: [0.1, 1],
        label: L("Subsample", "Submuestreo"),
        description: L(
          "Fraction of rows each tree is fitted on (below 1: stochastic boosting).",
          "Fracción de filas con que se ajusta cada árbol (menor que 1: boosting estocástico).",
        ),
      },
      max_depth: maxDepth(3, [1, 10]),
      min_samples_split: minSamplesSplit,
      min_samples_leaf: minSamplesLeaf,
      max_features: maxFeatures(null),
      max_leaf_nodes: maxLeafNodes,
      random_state: randomState,
    },
    standardize: false,
    implementation: "own code (binned histogram trees, Newton leaf values)",
    fit: (x, labels, p, seed, ctx) =>
      fitBoosting(
        x,
        labels,
        {
          nEstimators: p.n_estimators as number,
          learningRate: p.learning_rate as number,
          subsample: p.subsample as number,
          tree: { ...treeOptions(p, x.cols, "best", true), criterion: "squared_error" },
          seed: seedOf(p, seed),
        },
        ctx,
      ),
  };
}

function knnModel(name: string, task: Task, displayName: Localized): ModelDefinition {
  return {
    name,
    task,
    displayName,
    description: L(
      "Predicts from the k nearest training rows (Euclidean distance on standardized features).",
      "Predice a partir de las k filas de entrenamiento más cercanas (distancia euclidiana sobre atributos estandarizados).",
    ),
    params: {
      n_neighbors: {
        kind: "int",
        default: 5,
        min: 1,
        max: 1000,
        search: [1, 50],
        label: L("N neighbors", "N vecinos"),
        description: L("Number of neighbours.", "Número de vecinos."),
      },
      weights: {
        kind: "enum",
        default: "uniform",
        options: ["uniform", "distance"],
        searchable: true,
        label: L("Weights", "Pesos"),
        description: L(
          "Uniform votes, or votes weighted by inverse distance.",
          "Votos uniformes, o ponderados por el inverso de la distancia.",
        ),
      },
    },
    standardize: true,
    implementation: "own code (brute force)",
    fit: (x, labels, p) => fitKnn(x, labels.y, p.n_neighbors as number, p.weights as "uniform" | "distance"),
  };
}

const C = "TabularClassificationTask" as const;
const R = "RegressionTask" as const;

export const MODELS: ModelDefinition[] = [
  {
    name: "LogisticRegression",
    task: C,
    displayName: L("Logistic Regression", "Regresión Logística"),
    description: L(
      "Linear classifier with L2 regularization (binary logistic or multinomial), fitted with L-BFGS.",
      "Clasificador lineal con regularización L2 (logística binaria o multinomial), ajustado con L-BFGS.",
    ),
    params: {
      C: {
        kind: "float",
        default: 1,
        gt: 0,
        search: [0.001, 100],
        log: true,
        label: L("C", "C"),
        description: L("Inverse of the regularization strength.", "Inverso de la fuerza de regularización."),
      },
      penalty: {
        kind: "enum",
        default: "l2",
        options: ["l2", "none"],
        label: L("Penalty", "Penalización"),
        description: L("L2 penalty, or none.", "Penalización L2, o ninguna."),
      },
      max_iter: {
        kind: "int",
        default: 100,
        min: 1,
        max: 100000,
        search: [50, 1000],
        label: L("Max iterations", "Máximo de iteraciones"),
        description: L("Maximum L-BFGS iterations.", "Máximo de iteraciones de L-BFGS."),
      },
      tol: {
        kind: "float",
        default: 1e-4,
        gt: 0,
        label: L("Tolerance", "Tolerancia"),
        description: L(
          "Stop when the largest gradient entry is below this.",
          "Se detiene cuando el mayor gradiente es menor que esto.",
        ),
      },
      fit_intercept: fitIntercept,
    },
    standardize: true,
    implementation: "own code (L-BFGS)",
    fit: (x, labels, p, _seed, ctx) =>
      fitLogistic(
        x,
        labels.y,
        classes(labels),
        {
          c: p.penalty === "none" ? 1e12 : (p.C as number),
          maxIter: p.max_iter as number,
          tol: p.tol as number,
          fitIntercept: p.fit_intercept as boolean,
        },
        ctx,
      ),
  },
  forestModel(
    "DecisionTreeClassifier",
    C,
    L("Decision Tree Classifier", "Clasificador de Árbol de Decisión"),
    L(
      "A single decision tree (Gini or entropy splits).",
      "Un árbol de decisión (divisiones por Gini o entropía).",
    ),
    "tree",
  ),
  forestModel(
    "RandomForestClassifier",
    C,
    L("Random Forest Classifier", "Clasificador Random Forest"),
    L(
      "Averages the class probabilities of trees grown on bootstrap samples with random feature subsets.",
      "Promedia las probabilidades de árboles entrenados con muestras bootstrap y subconjuntos aleatorios de atributos.",
    ),
    "forest",
  ),
  forestModel(
    "ExtraTreesClassifier",
    C,
    L("Extra Trees Classifier", "Clasificador Extra Trees"),
    L(
      "Like a random forest, with random cut points.",
      "Como un random forest, con puntos de corte aleatorios.",
    ),
    "extra",
  ),
  boostingModel(
    "GradientBoostingClassifier",
    C,
    L("Gradient Boosting Classifier", "Clasificador Gradient Boosting"),
    L(
      "Ensemble that builds trees sequentially to correct previous errors.",
      "Conjunto que construye árboles secuencialmente para corregir errores previos.",
    ),
  ),
  knnModel(
    "KNeighborsClassifier",
    C,
    L("K Nearest Neighbors Classifier", "Clasificador K Vecinos Más Cercanos"),
  ),
  {
    name: "GaussianNB",
    task: C,
    displayName: L("Gaussian Naive Bayes", "Naive Bayes Gaussiano"),
    description: L(
      "Naive Bayes with a normal distribution per class and feature.",
      "Naive Bayes con una distribución normal por clase y atributo.",
    ),
    params: {
      var_smoothing: {
        kind: "float",
        default: 1e-9,
        min: 0,
        search: [1e-12, 1e-3],
        log: true,
        label: L("Var smoothing", "Suavizado de varianza"),
        description: L(
          "Fraction of the largest variance added to all variances.",
          "Fracción de la mayor varianza que se suma a todas las varianzas.",
        ),
      },
    },
    standardize: false,
    implementation: "own code",
    fit: (x, labels, p) => fitNaiveBayes(x, labels.y, classes(labels), p.var_smoothing as number),
  },
  {
    name: "DummyClassifier",
    task: C,
    displayName: L("Dummy Classifier", "Clasificador Dummy"),
    description: L("A baseline that ignores the inputs.", "Una línea base que ignora las entradas."),
    params: {
      strategy: {
        kind: "enum",
        default: "prior",
        options: ["prior", "most_frequent", "uniform"],
        label: L("Strategy", "Estrategia"),
        description: L("What the baseline predicts.", "Lo que predice la línea base."),
      },
    },
    standardize: false,
    implementation: "own code",
    fit: (_x, labels, p) => fitDummy(labels.y, classes(labels), p.strategy as DummyStrategy, null),
  },
  {
    name: "LinearRegression",
    task: R,
    displayName: L("Linear Regression", "Regresión Lineal"),
    description: L("Ordinary least squares.", "Mínimos cuadrados ordinarios."),
    params: { fit_intercept: fitIntercept },
    standardize: true,
    implementation: "own code (normal equations, Cholesky)",
    fit: (x, labels, p) => fitRidge(x, labels.y, 0, p.fit_intercept as boolean),
  },
  {
    name: "RidgeRegression",
    task: R,
    displayName: L("Ridge Regression", "Regresión Ridge"),
    description: L("Least squares with an L2 penalty.", "Mínimos cuadrados con penalización L2."),
    params: {
      alpha: {
        kind: "float",
        default: 1,
        min: 0,
        search: [0.001, 100],
        log: true,
        label: L("Alpha", "Alfa"),
        description: L("Regularization strength.", "Fuerza de regularización."),
      },
      fit_intercept: fitIntercept,
    },
    standardize: true,
    implementation: "own code (normal equations, Cholesky)",
    fit: (x, labels, p) => fitRidge(x, labels.y, p.alpha as number, p.fit_intercept as boolean),
  },
  ...(["LassoRegression", "ElasticNetRegression"] as const).map((name): ModelDefinition => ({
    name,
    task: R,
    displayName:
      name === "LassoRegression"
        ? L("Lasso Regression", "Regresión Lasso")
        : L("Elastic Net Regression", "Regresión Elastic Net"),
    description:
      name === "LassoRegression"
        ? L(
            "Least squares with an L1 penalty (sparse coefficients).",
            "Mínimos cuadrados con penalización L1 (coeficientes dispersos).",
          )
        : L(
            "Least squares with a mix of L1 and L2 penalties.",
            "Mínimos cuadrados con una mezcla de penalizaciones L1 y L2.",
          ),
    params: {
      alpha: {
        kind: "float",
        default: 1,
        gt: 0,
        search: [0.0001, 10],
        log: true,
        label: L("Alpha", "Alfa"),
        description: L("Regularization strength.", "Fuerza de regularización."),
      },
      ...(name === "ElasticNetRegression"
        ? {
            l1_ratio: {
              kind: "float",
              default: 0.5,
              min: 0,
              max: 1,
              search: [0, 1],
              label: L("L1 ratio", "Proporción L1"),
              description: L(
                "Share of the L1 penalty (1 is lasso, 0 is ridge).",
                "Proporción de la penalización L1 (1 es lasso, 0 es ridge).",
              ),
            } satisfies ParamSpec,
          }
        : {}),
      max_iter: {
        kind: "int",
        default: 1000,
        min: 1,
        max: 100000,
        label: L("Max iterations", "Máximo de iteraciones"),
        description: L(
          "Maximum coordinate descent sweeps.",
          "Máximo de pasadas de descenso por coordenadas.",
        ),
      },
      tol: {
        kind: "float",
        default: 1e-4,
        gt: 0,
        label: L("Tolerance", "Tolerancia"),
        description: L(
          "Stop when the largest relative coefficient change is below this.",
          "Se detiene cuando el mayor cambio relativo de coeficiente es menor que esto.",
        ),
      },
      fit_intercept: fitIntercept,
    },
    standardize: true,
    implementation: "own code (coordinate descent)",
    fit: (x, labels, p, _seed, ctx) =>
      fitElasticNet(
        x,
        labels.y,
        {
          alpha: p.alpha as number,
          l1Ratio: name === "LassoRegression" ? 1 : (p.l1_ratio as number),
          maxIter: p.max_iter as number,
          tol: p.tol as number,
          fitIntercept: p.fit_intercept as boolean,
        },
        ctx,
      ),
  })),
  forestModel(
    "DecisionTreeRegression",
    R,
    L("Decision Tree Regression", "Regresión con Árbol de Decisión"),
    L(
      "A single regression tree (variance reduction splits).",
      "Un árbol de regresión (divisiones por reducción de varianza).",
    ),
    "tree",
  ),
  forestModel(
    "RandomForestRegression",
    R,
    L("Random Forest Regression", "Regresión Random Forest"),
    L(
      "Averages regression trees grown on bootstrap samples.",
      "Promedia árboles de regresión entrenados con muestras bootstrap.",
    ),
    "forest",
  ),
  forestModel(
    "ExtraTreesRegression",
    R,
    L("Extra Trees Regression", "Regresión Extra Trees"),
    L(
      "Averages regression trees with random cut points.",
      "Promedia árboles de regresión con puntos de corte aleatorios.",
    ),
    "extra",
  ),
  boostingModel(
    "GradientBoostingR",
    R,
    L("Gradient Boosting Regression", "Regresión Gradient Boosting"),
    L(
      "Trees fitted one after another on the residuals.",
      "Árboles ajustados uno tras otro sobre los residuos.",
    ),
  ),
  knnModel(
    "KNeighborsRegression",
    R,
    L("K Nearest Neighbors Regression", "Regresión K Vecinos Más Cercanos"),
  ),
  {
    name: "DummyRegression",
    task: R,
    displayName: L("Dummy Regression", "Regresión Dummy"),
    description: L(
      "A baseline that predicts the mean, the median or a constant.",
      "Una línea base que predice la media, la mediana o una constante.",
    ),
    params: {
      strategy: {
        kind: "enum",
        default: "mean",
        options: ["mean", "median", "constant"],
        label: L("Strategy", "Estrategia"),
        description: L("What the baseline predicts.", "Lo que predice la línea base."),
      },
      constant: {
        kind: "float",
        default: null,
        nullable: true,
        label: L("Constant", "Constante"),
        description: L(
          'The value predicted by the "constant" strategy.',
          'El valor que predice la estrategia "constant".',
        ),
      },
    },
    standardize: false,
    implementation: "own code",
    fit: (_x, labels, p) =>
      fitDummy(labels.y, null, p.strategy as DummyStrategy, p.constant as number | null),
  },
];

/** Models that lab plugins added (by name); the built-in ones cannot be replaced. */
const PLUGIN_MODELS = new Map<string, ModelDefinition>();

/** Adds (or, on a plugin's reload, replaces) a plugin's model. */
export function registerPluginModel(model: ModelDefinition): void {
  if (MODELS.some((m) => m.name === model.name))
    throw new EngineError("invalid_input", `Model "${model.name}" is a built-in model`);
  PLUGIN_MODELS.set(model.name, model);
}

export function unregisterPluginModel(name: string): void {
  PLUGIN_MODELS.delete(name);
}

export function findModel(name: string): ModelDefinition {
  const model = MODELS.find((m) => m.name === name) ?? PLUGIN_MODELS.get(name);
  if (!model) throw new EngineError("unknown_component", `Unknown model "${name}"`);
  return model;
}
