// The Ward extension: starts `ward lsp` and connects VS Code to it.
'use strict';

const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

let client;

function start(context) {
  const command = vscode.workspace.getConfiguration('ward').get('path') || 'ward';
  const server = { command, args: ['lsp'], transport: TransportKind.stdio };
  client = new LanguageClient(
    'ward',
    'Ward',
    { run: server, debug: server },
    {
      documentSelector: [{ scheme: 'file', language: 'ward' }],
      synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher('**/*.ward') },
    },
  );
  return client.start();
}

async function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand('ward.restartServer', async () => {
      if (client) {
        await client.stop();
      }
      await start(context);
    }),
  );
  await start(context);
}

async function deactivate() {
  if (client) {
    await client.stop();
  }
}

module.exports = { activate, deactivate };
