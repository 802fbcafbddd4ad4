"""ducktape.template: ``TemplateRenderer``, Jinja2 templates from the ``templates/`` folders of
the renderer's package and the packages above it."""

from __future__ import annotations

import inspect
import os

from jinja2 import Environment, FileSystemLoader, Template


class TemplateRenderer:
    """``render(path, **kw)``: template ``path`` found in ``templates/`` beside the module of the
    object's class (or of a base class), else in the ``templates/`` of an enclosing package; its
    variables are the class's attributes, then the object's, then ``kw``."""

    def render_template(self, template, **kwargs) -> str:
        """Render ``template`` (a Jinja2 Template or its text) with the object's variables."""
        if not hasattr(template, "render"):
            template = Template(template)
        variables = {name: getattr(type(self), name) for name in dir(type(self))}
        variables.update(vars(self))
        return template.render(variables, **kwargs)

    def render(self, path: str, **kwargs) -> str:
        return self.render_template(self._template_env().get_template(path), **kwargs)

    def _template_env(self) -> Environment:
        env = self.__dict__.get("template_env")
        if env is None:
            env = Environment(
                loader=FileSystemLoader(_template_folders(type(self))), trim_blocks=True, lstrip_blocks=True
            )
            self.template_env = env
        return env


def _template_folders(cls: type) -> list[str]:
    """``templates/`` folders of each class's module directory and of its enclosing packages,
    nearest first."""
    folders: list[str] = []
    for klass in cls.__mro__:
        try:
            folder = os.path.dirname(os.path.abspath(inspect.getfile(klass)))
        except TypeError:  # builtins
            continue
        while True:
            candidate = os.path.join(folder, "templates")
            if os.path.isdir(candidate) and candidate not in folders:
                folders.append(candidate)
            if not os.path.isfile(os.path.join(folder, "__init__.py")):
                break
            folder = os.path.dirname(folder)
    return folders
