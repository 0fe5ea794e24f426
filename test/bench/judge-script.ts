// The stand-in's scripted answers for the judge tests (judge.test.ts, tool-pages.test.ts): evaluated models
// with known mistakes, and a judge that answers one kind of prompt in prose (not the JSON asked for).
import type { StandinChat, StandinReply } from "../support/llm-standin.js";

export const UNPARSABLE = "Looks fine to me overall.";

/** The evaluated models: `good` answers every case right, `bad` gets three of four wrong. */
function model(chat: StandinChat): StandinReply {
  const good = chat.model === "good";
  const p = chat.prompt;
  if (p.startsWith("What's the weather"))
    return {
      toolCalls: [
        { name: "get_weather", arguments: { city: "Paris", unit: good ? "celsius" : "fahrenheit" } },
      ],
    };
  if (p.startsWith("Find Ada"))
    return { toolCalls: [{ name: good ? "search_contacts" : "get_weather", arguments: { name: "Ada" } }] };
  if (p.startsWith("Tell me a joke"))
    return good ? { text: "No." } : { toolCalls: [{ name: "get_weather", arguments: { city: "x" } }] };
  const result = chat.toolResults.at(-1);
  if (!result) return { toolCalls: [{ name: "search_contacts", arguments: { name: "Ada Lovelace" } }] };
  const { email } = JSON.parse(result.content) as { email: string };
  return {
    toolCalls: [
      {
        name: "create_event",
        arguments: {
          title: "Design review",
          attendee_email: email,
          date: good ? "2026-12-10" : "2026-01-01",
        },
      },
    ],
  };
}

/**
 * The judge: a verdict from the automated score (1 → pass 5, above 0 → marginal 3, 0 → fail 1), except for the
 * booking case, which it answers in prose (unparsable); a report per model; the better automated score wins a
 * comparison, except the joke case (prose again); a summary.
 */
function judge(chat: StandinChat): StandinReply {
  const p = chat.prompt;
  if (p.startsWith("You grade how")) {
    if (p.includes("Book 'Design review'")) return { text: UNPARSABLE };
    const score = Number(/Automated score \(0-1\): ([\d.]+)/.exec(p)![1]);
    const [quality, verdict] = score === 1 ? [5, "pass"] : score > 0 ? [3, "marginal"] : [1, "fail"];
    return {
      text: JSON.stringify({
        quality_score: quality,
        verdict,
        summary: `scored ${score}`,
        reasoning: "Because.",
        tool_selection_assessment: score > 0 ? "correct" : "wrong",
        param_assessment: "exact",
      }),
    };
  }
  if (p.startsWith("You graded")) {
    const good = p.includes('"local/good"');
    return {
      text:
        "```json\n" +
        JSON.stringify({
          overall_grade: good ? "A" : "D+",
          overall_score: good ? 95 : 40,
          strengths: ["picks tools"],
          weaknesses: good ? [] : ["wrong tools"],
          cross_case_analysis: "Consistent.",
          recommendations: ["more cases"],
        }) +
        "\n```",
    };
  }
  if (p.startsWith("You compare two")) {
    if (p.includes("Tell me a joke")) return { text: "Both are fine I guess." };
    const a = Number(/MODEL A \([^)]*\): .*; automated score ([\d.]+)/.exec(p)![1]);
    const b = Number(/MODEL B \([^)]*\): .*; automated score ([\d.]+)/.exec(p)![1]);
    const winner = a > b ? "model_a" : b > a ? "model_b" : "tie";
    return { text: JSON.stringify({ winner, confidence: 0.9, reasoning: `${a} vs ${b}` }) };
  }
  return {
    text: JSON.stringify({ overall_winner: "model_a", score_a: 90, score_b: 30, summary: "A is better." }),
  };
}

export function judgeScript(chat: StandinChat): StandinReply | null {
  return chat.model === "judge" || chat.model === "slowjudge" ? judge(chat) : model(chat);
}
