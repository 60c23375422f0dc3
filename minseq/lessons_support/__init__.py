"""What the lesson frame (``minseq.lesson``) leans on beyond printing and checking: grading an
exercise without letting it call the answer (``grading``), running a lesson as a notebook
(``notebook``, and ``build`` to make and execute the notebooks), drawing a layer's
computational graph from the lesson's own operations (``graph_diagram``) and working one
element of a backward pass through with the run's numbers (``worked``)."""
