"""Sections of a tab that recompute only while shown: hidden sections skip filter updates."""

from __future__ import annotations

import panel as pn
import param

from .base import TabView


class SectionView(TabView):
    """A sub-view inside a tab; while `active` is False its bound renders keep their last output."""

    active = param.Boolean(default=True, doc="Whether the section is shown; hidden sections skip recomputation.")

    def bind_active(self, function, *references):
        """`pn.bind(function, *references)` that skips updates while the section is hidden."""

        def render(active, *values):
            if not active:
                raise param.Skip
            return function(*values)

        return pn.bind(render, self.param.active, *references)


def link_sections(tabs: pn.Tabs, sections) -> None:
    """Mark the shown section of `tabs` active and the others hidden, now and on every tab change."""

    def update(index):
        for i, section in enumerate(sections):
            if isinstance(section, SectionView):
                section.active = i == index

    update(tabs.active)
    tabs.param.watch(lambda event: update(event.new), "active")
