"""Application definitions as JSON files: export an application, load (create or update) one.

The file is the application's desired shape. `load_definition` checks the whole document first
(`check`) and reports every problem with its place in the file; only then does it apply the
changes (`load`), all in one transaction, through the same schema-change functions the admin
uses. Loading the same file twice changes nothing the second time. Other apps add sections of
their own (`document.register_section`).
"""

from .check import check_definition
from .document import DefinitionError, LoadReport, Section, register_section
from .export import export_definition
from .load import definition_loaded, load_definition

__all__ = ["DefinitionError", "LoadReport", "Section", "check_definition", "definition_loaded",
           "export_definition", "load_definition", "register_section"]
