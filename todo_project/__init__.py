# The API's version: the OpenAPI document's info.version. Semantic versioning (docs/development.md, "Versioning").
__version__ = "1.0.0"
