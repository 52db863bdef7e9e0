"""RESTified endpoints: an application's saved GraphQL documents served at
/api/<slug>/rest/<url template> (shared/seeds/004), with an OpenAPI document describing them.

- `templates` reads URL templates and says which could match the same URL;
- `checks` says what is wrong with an endpoint's definition (against the application's schema);
- `routes` finds the endpoint a request is for, with each document prepared once per schema;
- `variables` turns URL segments and query strings into GraphQL variables (the seed's rules);
- `views` serves the endpoints and `openapi` describes them;
- `admin` and `definitions` are where builders define them.

It runs the documents through the data API's executor; the data API knows nothing of it.
"""
