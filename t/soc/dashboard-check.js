// Validates a Grafana dashboard JSON file against Grafana's own model of
// a dashboard: the Dashboard type that @grafana/schema ships (generated
// by Grafana from its dashboard kind), turned into a JSON Schema by
// ts-json-schema-generator and checked with Ajv.  Nothing is fetched:
// the packages are installed by scripts/deps ("npm ci" here).
//
//   node t/soc/dashboard-check.js dashboard.json [schema-out.json]
//
// Exit 0: valid; 1: invalid (the errors on stderr); 2: cannot check.

'use strict';

const fs = require('fs');
const path = require('path');

let tsj, Ajv;
try {
    tsj = require('ts-json-schema-generator');
    Ajv = require('ajv');
} catch (e) {
    console.error('dashboard-check: npm packages missing (run scripts/deps): '
                  + e.message);
    process.exit(2);
}

const file = process.argv[2];
if (!file) {
    console.error('usage: dashboard-check.js dashboard.json [schema-out.json]');
    process.exit(2);
}

const pkg = path.dirname(require.resolve('@grafana/schema/package.json'));
const types = path.join(pkg, 'dist/types/raw/dashboard/x/types.gen.d.ts');
const version = require('@grafana/schema/package.json').version;

const schema = tsj.createGenerator({
    path: types,
    type: 'Dashboard',
    skipTypeCheck: true,
    additionalProperties: false,
}).createSchema('Dashboard');

if (process.argv[3]) {
    fs.writeFileSync(process.argv[3], JSON.stringify(schema, null, 2));
}

const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(schema);
const dashboard = JSON.parse(fs.readFileSync(file, 'utf8'));

console.log('schema: Dashboard of @grafana/schema ' + version + ', '
            + Object.keys(schema.definitions).length + ' definitions');

if (!validate(dashboard)) {
    for (const e of validate.errors) {
        console.error((e.instancePath || '/') + ': ' + e.message
                      + (e.params ? ' ' + JSON.stringify(e.params) : ''));
    }
    process.exit(1);
}

console.log('valid: ' + file);
