// Every module, in creation order: a module comes after the modules it needs (guard logs its training runs
// to tracking; lab's generative sessions use bench's provider models). server.ts and app.ts loop over
// this list.
import bench from "./bench/module.js";
import dashboard from "./dashboard/module.js";
import guard from "./guard/module.js";
import lab from "./lab/module.js";
import system from "./system/module.js";
import tracking from "./tracking/module.js";

export const modules = [system, tracking, guard, bench, lab, dashboard];
