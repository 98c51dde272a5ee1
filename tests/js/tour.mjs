// The official TypeScript client, @a2a-js/sdk, in its default mode (protocol 1.0 over
// JSON-RPC, the transport chosen from the card), through every method against a server:
//   node tour.mjs BASE_URL SLOW_TEXT WEBHOOK_URL
// SLOW_TEXT is a message whose task stays working a while. Each step prints one JSON line
// for tests/test_interop_js.py to check; a step that throws prints {"step": "failed", ...}
// and the process exits 1.
import { ClientFactory } from '@a2a-js/sdk/client';
import {
  CancelTaskRequest, DeleteTaskPushNotificationConfigRequest, GetTaskPushNotificationConfigRequest,
  GetTaskRequest, ListTaskPushNotificationConfigsRequest, ListTasksRequest, SendMessageRequest,
  StreamResponse, SubscribeToTaskRequest, Task, TaskPushNotificationConfig,
} from '@a2a-js/sdk';
import { randomUUID } from 'node:crypto';

const [base, slowText, webhook] = process.argv.slice(2);
const out = (step, fields) => console.log(JSON.stringify({ step, ...fields }));
const message = (text, extra = {}) => SendMessageRequest.fromJSON({
  message: { messageId: randomUUID(), role: 'ROLE_USER', parts: [{ text }] }, ...extra,
});
const failure = (e) => ({ name: e.name, code: e.envelopeCode ?? null, message: e.message });
const fails = async (fn) => { try { await fn(); return null; } catch (e) { return failure(e); } };

try {
  const client = await new ClientFactory().createFromUrl(base);
  out('transport', { name: client.transport.constructor.name, version: client.protocolVersion });

  const sent = await client.sendMessage(message('calc 2+3*4'));
  out('send', { task: Task.toJSON(sent) });
  out('get', { task: Task.toJSON(await client.getTask(GetTaskRequest.fromJSON({ id: sent.id, historyLength: 1 }))) });

  const events = [];
  for await (const event of client.sendMessageStream(message('time'))) events.push(StreamResponse.toJSON(event));
  out('stream', { events });
  const listed = await client.listTasks(ListTasksRequest.fromJSON({ pageSize: 1 }));
  out('list', { ids: listed.tasks.map((t) => t.id), next: listed.nextPageToken, total: listed.totalSize });

  const slow = await client.sendMessage(message(slowText, { configuration: { returnImmediately: true } }));
  const config = await client.createTaskPushNotificationConfig(TaskPushNotificationConfig.fromJSON({
    taskId: slow.id, id: 'js', url: webhook, token: 'js-token',
    authentication: { scheme: 'Bearer', credentials: 'js-secret' } }));
  const got = await client.getTaskPushNotificationConfig(
    GetTaskPushNotificationConfigRequest.fromJSON({ taskId: slow.id, id: 'js' }));
  const configs = await client.listTaskPushNotificationConfig(
    ListTaskPushNotificationConfigsRequest.fromJSON({ taskId: slow.id }));
  out('push', { created: TaskPushNotificationConfig.toJSON(config), got: TaskPushNotificationConfig.toJSON(got),
                listed: configs.configs.map((c) => c.id) });

  const resubscribed = [];
  const reader = (async () => {
    for await (const event of client.resubscribeTask(SubscribeToTaskRequest.fromJSON({ id: slow.id }))) {
      resubscribed.push(StreamResponse.toJSON(event));
    }
  })();
  await new Promise((resolve) => setTimeout(resolve, 300));
  const canceled = await client.cancelTask(CancelTaskRequest.fromJSON({ id: slow.id }));
  await reader;  // the subscription ends when the task does
  out('cancel', { task: Task.toJSON(canceled), resubscribed });
  await client.deleteTaskPushNotificationConfig(
    DeleteTaskPushNotificationConfigRequest.fromJSON({ taskId: slow.id, id: 'js' }));

  out('errors', {
    get: await fails(() => client.getTask(GetTaskRequest.fromJSON({ id: 'no-such-task' }))),
    cancel: await fails(() => client.cancelTask(CancelTaskRequest.fromJSON({ id: sent.id }))),
    subscribe: await fails(async () => {
      for await (const _ of client.resubscribeTask(SubscribeToTaskRequest.fromJSON({ id: sent.id }))) { /* none */ }
    }),
  });
  out('done', {});
} catch (e) {
  out('failed', failure(e));
  process.exit(1);
}
