// Lab's error answers beyond the platform's kinds: DashAI answers some 422s with a plain string detail
// ("Dataset is not in finished state"), and an oversize upload with 413.
import { AppError } from "../../platform/errors.js";

export function unprocessable(detail: string): AppError {
  return new AppError("UNPROCESSABLE_CONTENT", 422, detail);
}

export function tooLarge(detail: string): AppError {
  return new AppError("PAYLOAD_TOO_LARGE", 413, detail);
}
