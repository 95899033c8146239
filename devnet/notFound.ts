/** An unknown process or message: the HTTP layer answers it with a JSON 404. */
export class NotFoundError extends Error {
  readonly status = 404;
}
