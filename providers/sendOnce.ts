/**
 * Sending a signed item (a spawn, an Eval, a state-transfer action) once, whatever the retries. The item
 * is signed once: RSA-PSS signatures are salted, so signing again makes another item with another ID,
 * which the scheduler takes as another message (a second Eval, a second process). A retried attempt
 * first asks the network, by the signed item's ID, whether it was scheduled (the reply was lost after
 * it was), and answers what the network has; only when it was not does it post the same bytes again.
 *
 * Why asking comes first: AO's legacy scheduler refuses an item ID it already holds (permaweb/ao
 * servers/su/src/domain/core/flows.rs write_item -> check_existing_message: "Message already exists"),
 * but HyperBEAM's schedules it again at the next slot (src/dev_scheduler_server.erl do_assign; its test
 * http_get_json_schedule_test_ posts one signed message ten times and reads slot 10).
 */
import type { SignedOnce } from "./aoApi";
import type { RetryFn } from "./pipeline";

export async function sendOnce<T>(
  retry: RetryFn,
  step: string,
  endpoint: string,
  item: SignedOnce<T>,
  log: (message: string) => void = () => {},
): Promise<T> {
  return retry(step, endpoint, async (attempt) => {
    const id = item.signedId();
    if (attempt > 1 && id) {
      const found = await item.lookup();
      if (found !== undefined) {
        log(`${step}: ${id} was scheduled before its reply was lost; not sending it again`);
        return found;
      }
    }
    return item.send();
  });
}
